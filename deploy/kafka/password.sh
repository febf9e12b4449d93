# Sourced by start.sh, init.sh and add-producer.sh.

# password NAME: fail unless the variable NAME holds a usable password. Letters, digits,
# '-' and '_' only: it is written into JAAS configs and a database URL unquoted.
password() {
  local value="${!1:-}"
  if [[ ! "$value" =~ ^[A-Za-z0-9_-]{16,}$ ]]; then
    echo "$1 must be set (in .env) to 16+ letters, digits, - or _ (e.g. openssl rand -hex 24)" >&2
    exit 2
  fi
}

# admin_client_config FILE: client settings of the broker's admin user.
admin_client_config() {
  cat > "$1" <<PROPERTIES
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${KAFKA_ADMIN_PASSWORD}";
PROPERTIES
}
