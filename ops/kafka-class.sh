#!/usr/bin/env bash
# Run a class of the fetched Apache Kafka distribution (like bin/kafka-run-class.sh).
#   bash ops/kafka-class.sh <class-or-alias> [args...]
# Aliases: producer-perf, consumer-perf, topics, console-producer, console-consumer,
#          consumer-groups, get-offsets, api-versions, metadata-quorum, storage, acls
# e.g. bash ops/kafka-class.sh topics --bootstrap-server 127.0.0.1:19092 --list
# Env: ZADS_CACHE_DIR (default <repo>/.cache), ZADS_TOOLS_HEAP (default -Xmx512m), ZADS_JAVA.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${ZADS_CACHE_DIR:-$REPO_ROOT/.cache}"
if [[ -n "${ZADS_JAVA:-}" ]]; then JAVA="$ZADS_JAVA"
elif [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"
else JAVA=java; fi

[[ $# -ge 1 ]] || { sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }
if [[ ! -f "$CACHE_DIR/versions.env" ]]; then
  ZADS_CACHE_DIR="$CACHE_DIR" bash "$REPO_ROOT/ops/fetch.sh" >&2
fi
# shellcheck disable=SC1091
source "$CACHE_DIR/versions.env"

cls="$1"; shift
case "$cls" in
  producer-perf)    cls=org.apache.kafka.tools.ProducerPerformance ;;
  consumer-perf)    cls=org.apache.kafka.tools.ConsumerPerformance ;;
  topics)           cls=org.apache.kafka.tools.TopicCommand ;;
  console-producer) cls=kafka.tools.ConsoleProducer ;;
  console-consumer) cls=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
  consumer-groups)  cls=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
  get-offsets)      cls=org.apache.kafka.tools.GetOffsetShell ;;
  api-versions)     cls=kafka.admin.BrokerApiVersionsCommand ;;
  metadata-quorum)  cls=org.apache.kafka.tools.MetadataQuorumCommand ;;
  storage)          cls=kafka.tools.StorageTool ;;
  # kafka-acls.sh: in the core jar up to 3.x, in kafka-tools from 4.0.
  acls)             if [[ "${KAFKA_VERSION%%.*}" -ge 4 ]]; then cls=org.apache.kafka.tools.AclCommand; else cls=kafka.admin.AclCommand; fi ;;
esac
# shellcheck disable=SC2086
exec "$JAVA" ${ZADS_TOOLS_HEAP:--Xmx512m} -XX:+UseG1GC -Djava.awt.headless=true \
  -Dlog4j.configuration="file:$REPO_ROOT/ops/config/tools-log4j.properties" \
  -cp "$KAFKA_LIBS/*" "$cls" "$@"
