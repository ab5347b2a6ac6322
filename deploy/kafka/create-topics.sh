#!/usr/bin/env bash
# Create salesradar's topics with their partition counts before any worker starts.
# Idempotent (--if-not-exists). The raw topics, salesradar.repartition and the conversation
# table's changelog (faust creates it) are co-partitioned: they MUST have the same partition
# count, equal to SALESRADAR_TOPIC_PARTITIONS (12 here); it sets the parallelism of a worker
# group. A conversation's records are processed on the partition its id hashes to.
#
# Env: BOOTSTRAP (host:port), REPLICATION_FACTOR (3 in production, 1 on a single broker),
#      TOPICS (optional override: "name:partitions name:partitions ...").
set -euo pipefail

BOOTSTRAP="${BOOTSTRAP:-kafka:9092}"
REPLICATION_FACTOR="${REPLICATION_FACTOR:-3}"
KAFKA_BIN="${KAFKA_BIN:-/opt/kafka/bin}"
TOPICS="${TOPICS:-salesradar.raw.wecom:12 salesradar.raw.dingtalk:12 salesradar.raw.crm:12 salesradar.raw.email:12 salesradar.repartition:12 salesradar.events:12 salesradar.latency:12 salesradar.alerts:3 salesradar.dlq:3}"

for spec in ${TOPICS}; do
  name="${spec%%:*}"
  partitions="${spec##*:}"
  "${KAFKA_BIN}/kafka-topics.sh" --bootstrap-server "${BOOTSTRAP}" --create --if-not-exists \
    --topic "${name}" --partitions "${partitions}" --replication-factor "${REPLICATION_FACTOR}" \
    --config min.insync.replicas="$(( REPLICATION_FACTOR > 1 ? 2 : 1 ))"
  echo "topic ${name}: ${partitions} partitions, replication factor ${REPLICATION_FACTOR}"
done

# the dead-letter topic keeps what could not be processed long enough to fix and replay it
"${KAFKA_BIN}/kafka-configs.sh" --bootstrap-server "${BOOTSTRAP}" --alter \
  --entity-type topics --entity-name salesradar.dlq --add-config retention.ms=2592000000
