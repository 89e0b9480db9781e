#!/usr/bin/env bash
# Kafka ACLs for the replays' own principal on the UW cluster: it may create, write and read topics under
# the replay prefix only, use its transactional ids and checkpoint groups (zads-replay-<id>), and nothing
# else — so even a bug in zads's own target check cannot write a nightly topic. Needs the brokers to run an
# authorizer (ops/config/kafka-authorizer.properties) and the user to exist (SCRAM), see ops/README.md.
#   bash ops/kafka-acls-replay.sh --bootstrap-server host:port [--command-config admin.properties]
# --command-config: client properties of a super user (security.protocol, sasl.*, ssl.truststore.*).
# Env: ZADS_REPLAY_PRINCIPAL (default User:zads-replay), ZADS_REPLAY_TOPIC_PREFIX (default replay_: set
#      replay.topicTemplate "replay_{nightTopic}" and replay.allowedTopics ["replay_*"] in the zads config),
#      ZADS_REPLAY_LIVE=1 also lets it read the nightly topics (zads replay --then-live); and as ops/kafka-class.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PRINCIPAL="${ZADS_REPLAY_PRINCIPAL:-User:zads-replay}"
PREFIX="${ZADS_REPLAY_TOPIC_PREFIX:-replay_}"
[[ $# -ge 2 ]] || { sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }
[[ -n "$PREFIX" && "$PREFIX" != ztf_* && "$PREFIX" != __* ]] || { echo "ZADS_REPLAY_TOPIC_PREFIX must not be empty nor cover nightly (ztf_) or internal (__) topics" >&2; exit 2; }

acls() { bash "$HERE/kafka-class.sh" acls "$@"; }

# Create, write and describe topics under the prefix; the transactional ids zads-replay-<replay id>.
acls "$@" --add --allow-principal "$PRINCIPAL" --producer --topic "$PREFIX" --transactional-id zads-replay- --resource-pattern-type prefixed
# Read them and use the groups zads-replay-<id>: a replay's checkpoint is a transactional offset commit of
# that group on its target topic, and is read back when it resumes.
acls "$@" --add --allow-principal "$PRINCIPAL" --consumer --topic "$PREFIX" --group zads-replay- --resource-pattern-type prefixed
if [[ "${ZADS_REPLAY_LIVE:-0}" == 1 ]]; then
  # --then-live reads the night's topic (group zads-replay-live-<id>, covered above): read only, never write.
  acls "$@" --add --allow-principal "$PRINCIPAL" --operation Read --operation Describe --topic ztf_ --resource-pattern-type prefixed
fi
acls "$@" --list --principal "$PRINCIPAL"
