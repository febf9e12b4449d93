#!/bin/bash
# Starts the compose stack's Kafka: writes the server and admin-client configs with the admin
# password from the environment, formats the log directory once with the admin's SCRAM
# credential (KRaft reads credentials from its metadata log, so the first user must be
# written at format time), then runs the broker.
set -euo pipefail
. "$(dirname "$0")/password.sh"
password KAFKA_ADMIN_PASSWORD

config=/tmp/server.properties
sed "s/@KAFKA_ADMIN_PASSWORD@/${KAFKA_ADMIN_PASSWORD}/g" /deploy/kafka/server.properties > "$config"
admin_client_config /tmp/admin.properties  # for the health check

/opt/kafka/bin/kafka-storage.sh format --config "$config" --ignore-formatted \
  --cluster-id "${KAFKA_CLUSTER_ID:-$(/opt/kafka/bin/kafka-storage.sh random-uuid)}" \
  --add-scram "SCRAM-SHA-512=[name=admin,password=${KAFKA_ADMIN_PASSWORD}]"
exec /opt/kafka/bin/kafka-server-start.sh "$config"
