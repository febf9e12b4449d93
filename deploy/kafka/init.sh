#!/bin/bash
# One-shot set-up of the compose stack's Kafka, run before the services start: a SCRAM user
# per service (passwords from .env), the topics of topics.txt and the ACLs of acls.txt.
# Idempotent: run again, it resets the passwords and adds nothing twice.
set -euo pipefail
. "$(dirname "$0")/password.sh"
password KAFKA_ADMIN_PASSWORD
admin_client_config /tmp/admin.properties
bin=/opt/kafka/bin
kafka=(--bootstrap-server "${KAFKA_BOOTSTRAP:-kafka:9092}" --command-config /tmp/admin.properties)

for service in ingest aggregator decisions market; do
  var="KAFKA_${service^^}_PASSWORD"
  password "$var"
  "$bin/kafka-configs.sh" "${kafka[@]}" --alter --entity-type users --entity-name "$service" \
    --add-config "SCRAM-SHA-512=[iterations=8192,password=${!var}]"
done

grep -v '^\s*\(#\|$\)' /deploy/kafka/topics.txt | while read -r topic policy; do
  "$bin/kafka-topics.sh" "${kafka[@]}" --create --if-not-exists --topic "$topic" \
    --partitions "${CHARGEFLOW_TOPIC_PARTITIONS:-4}" \
    --replication-factor "${CHARGEFLOW_TOPIC_REPLICATION_FACTOR:-1}" \
    --config "cleanup.policy=${policy}"
done

grep -v '^\s*\(#\|$\)' /deploy/kafka/acls.txt | while read -r principal operations kind pattern name; do
  ops=()
  for op in ${operations//,/ }; do ops+=(--operation "$op"); done
  "$bin/kafka-acls.sh" "${kafka[@]}" --add --allow-principal "User:${principal}" "${ops[@]}" \
    "--${kind}" "$name" --resource-pattern-type "$pattern"
done
echo "kafka users, topics and ACLs are in place"
