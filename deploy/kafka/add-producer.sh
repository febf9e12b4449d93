#!/bin/bash
# add-producer.sh NAME: let the registry user NAME (a fleet or charger operator) publish its
# plans straight to Kafka: a SCRAM user NAME (password from PRODUCER_PASSWORD), its topic
# charging-plans.direct.NAME and its dead-letter topic, and LITERAL ACLs: NAME may write its
# own topic and read its own dead letters, nothing else. (A prefixed ACL on
# "charging-plans.direct.NAME" would also let NAME write "charging-plans.direct.NAMEsake".)
#   docker compose run --rm -e PRODUCER_PASSWORD kafka-init /deploy/kafka/add-producer.sh fleet-a
set -euo pipefail
. "$(dirname "$0")/password.sh"
name="${1:?usage: add-producer.sh NAME}"
if [[ ! "$name" =~ ^[A-Za-z0-9_-]{1,200}$ ]]; then
  echo "NAME must be letters, digits, - or _ (it becomes a topic name)" >&2
  exit 2
fi
password KAFKA_ADMIN_PASSWORD
password PRODUCER_PASSWORD
admin_client_config /tmp/admin.properties
bin=/opt/kafka/bin
kafka=(--bootstrap-server "${KAFKA_BOOTSTRAP:-kafka:9092}" --command-config /tmp/admin.properties)
topic="charging-plans.direct.${name}"

"$bin/kafka-configs.sh" "${kafka[@]}" --alter --entity-type users --entity-name "$name" \
  --add-config "SCRAM-SHA-512=[iterations=8192,password=${PRODUCER_PASSWORD}]"
for t in "$topic" "${topic}.dlq"; do
  "$bin/kafka-topics.sh" "${kafka[@]}" --create --if-not-exists --topic "$t" \
    --partitions "${CHARGEFLOW_TOPIC_PARTITIONS:-4}" \
    --replication-factor "${CHARGEFLOW_TOPIC_REPLICATION_FACTOR:-1}"
done
"$bin/kafka-acls.sh" "${kafka[@]}" --add --allow-principal "User:${name}" \
  --operation Write --operation Describe --topic "$topic" --resource-pattern-type literal
"$bin/kafka-acls.sh" "${kafka[@]}" --add --allow-principal "User:${name}" \
  --operation Read --operation Describe --topic "${topic}.dlq" --resource-pattern-type literal
"$bin/kafka-acls.sh" "${kafka[@]}" --add --allow-principal "User:${name}" \
  --operation Read --group "${name}" --resource-pattern-type literal
echo "${name} may publish to ${topic}; its refused records land on ${topic}.dlq"
