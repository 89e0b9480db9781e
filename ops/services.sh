#!/usr/bin/env bash
# Start / stop / inspect the real services the tests and the benchmark use:
#   ipac      Apache Kafka, single-node KRaft (broker+controller), PLAINTEXT 127.0.0.1:19092
#   uw        Apache Kafka, single-node KRaft (broker+controller), PLAINTEXT 127.0.0.1:29092
#   s3        S3Proxy, filesystem backend, http://127.0.0.1:9000 (path-style, key zads / secret zadszads)
#   cluster3  three-node KRaft cluster (combined mode), 127.0.0.1:39092,39093,39094 — only when asked;
#             its nodes are also addressable alone: cluster3-1, cluster3-2, cluster3-3
#
#   bash ops/services.sh start  [names...]   # default: ipac uw s3
#   bash ops/services.sh stop   [names...]   # default: everything, cluster3 included
#   bash ops/services.sh status [names...]   # default: everything
#   bash ops/services.sh reset  [names...]   # stop, then delete data/logs (default: all of .services/)
#
# Env: ZADS_SERVICES_DIR (default <repo>/.services), ZADS_CACHE_DIR (default <repo>/.cache),
#      ZADS_JAVA (default $JAVA_HOME/bin/java or java), ZADS_START_TIMEOUT (s, default 120),
#      ZADS_KAFKA_HEAP (default -Xms256m -Xmx768m), ZADS_CLUSTER3_HEAP (default -Xms192m -Xmx512m),
#      ZADS_S3_HEAP (default -Xms64m -Xmx256m).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OPS_DIR="$REPO_ROOT/ops"
SERVICES_DIR="${ZADS_SERVICES_DIR:-$REPO_ROOT/.services}"
CACHE_DIR="${ZADS_CACHE_DIR:-$REPO_ROOT/.cache}"
START_TIMEOUT="${ZADS_START_TIMEOUT:-120}"
STOP_TIMEOUT=20
KAFKA_HEAP="${ZADS_KAFKA_HEAP:--Xms256m -Xmx768m}"
CLUSTER3_HEAP="${ZADS_CLUSTER3_HEAP:--Xms192m -Xmx512m}"
S3_HEAP="${ZADS_S3_HEAP:--Xms64m -Xmx256m}"
if [[ -n "${ZADS_JAVA:-}" ]]; then JAVA="$ZADS_JAVA"
elif [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"
else JAVA=java; fi

S3_ACCESS_KEY=zads
S3_SECRET_KEY=zadszads

DEFAULT_START=(ipac uw s3)
ALL=(ipac uw s3 cluster3-1 cluster3-2 cluster3-3)

log() { printf '[services] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s; }

# ---------------------------------------------------------------- service table
# kind, dir, port (client), controller port, node id
svc_kind() { case "$1" in s3) echo s3 ;; *) echo kafka ;; esac; }
svc_dir() {
  case "$1" in
    cluster3-[123]) echo "$SERVICES_DIR/cluster3/node${1#cluster3-}" ;;
    *) echo "$SERVICES_DIR/$1" ;;
  esac
}
svc_port() {
  case "$1" in
    ipac) echo 19092 ;; uw) echo 29092 ;; s3) echo 9000 ;;
    cluster3-1) echo 39092 ;; cluster3-2) echo 39093 ;; cluster3-3) echo 39094 ;;
  esac
}
svc_cport() {
  case "$1" in
    ipac) echo 19093 ;; uw) echo 29093 ;;
    cluster3-1) echo 39192 ;; cluster3-2) echo 39193 ;; cluster3-3) echo 39194 ;;
  esac
}
svc_node_id() { case "$1" in cluster3-[123]) echo "${1#cluster3-}" ;; *) echo 1 ;; esac; }

# expand_names <default...> -- <args...>   → prints one service per line
expand_names() {
  local defaults=() args=() seen_sep=0 a
  for a in "$@"; do
    if [[ $seen_sep == 0 ]]; then
      if [[ $a == -- ]]; then seen_sep=1; else defaults+=("$a"); fi
    else args+=("$a"); fi
  done
  [[ ${#args[@]} -eq 0 ]] && args=("${defaults[@]}")
  local out=()
  for a in "${args[@]}"; do
    case "$a" in
      all) out+=("${ALL[@]}") ;;
      cluster3) out+=(cluster3-1 cluster3-2 cluster3-3) ;;
      ipac|uw|s3|cluster3-1|cluster3-2|cluster3-3) out+=("$a") ;;
      *) die "unknown service '$a' (known: ipac uw s3 cluster3 cluster3-1 cluster3-2 cluster3-3 all)" ;;
    esac
  done
  printf '%s\n' "${out[@]}" | awk '!seen[$0]++'
}

# ---------------------------------------------------------------- process helpers
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# pid_is_ours <pid> <dir>: alive, and its command line names the service dir
pid_is_ours() {
  local pid="$1" dir="$2"
  [[ -n "$pid" && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | grep -qF -- "$dir/"
}
read_pid() { [[ -f "$1/pid" ]] && tr -dc '0-9' <"$1/pid" || true; }

# java processes whose command line names <dir>/ (in case a pid file was lost)
orphans_of() {
  local dir="$1" p
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [[ -r /proc/$p/cmdline ]] || continue
    if tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null | grep -q '^[^ ]*java ' &&
       tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null | grep -qF -- "$dir/"; then
      echo "$p"
    fi
  done
}

# launch <dir> <logfile> <cmd...>: detached (own session), pid of the exec'd java in <dir>/pid
launch() {
  local dir="$1" logfile="$2"; shift 2
  rm -f "$dir/pid"
  # shellcheck disable=SC2016  # $$, $0 and $@ belong to the inner shell
  setsid bash -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$dir/pid" "$@" \
    </dev/null >>"$logfile" 2>&1 9>&- &
  local i
  for i in $(seq 1 50); do [[ -s "$dir/pid" ]] && return 0; sleep 0.1; done
  die "could not launch $*"
}

# ---------------------------------------------------------------- artifacts
load_artifacts() {
  local env="$CACHE_DIR/versions.env"
  if [[ -f "$env" ]]; then
    # shellcheck disable=SC1090
    source "$env"
  fi
  if [[ -z "${KAFKA_LIBS:-}" || ! -f "${KAFKA_LIBS%/libs}/.complete" ||
        -z "${S3PROXY_JAR:-}" || ! -f "$S3PROXY_JAR" ]]; then
    log "artifacts missing in $CACHE_DIR: running ops/fetch.sh"
    ZADS_CACHE_DIR="$CACHE_DIR" bash "$OPS_DIR/fetch.sh"
    # shellcheck disable=SC1090
    source "$env"
  fi
  command -v "$JAVA" >/dev/null 2>&1 || die "java not found ($JAVA)"
}

# Our ports sit inside Linux's ephemeral range (32768-60999): a client's outgoing connection can take one
# of them a moment before a broker binds it ("Address already in use", seen in CI on 39094). As root, keep
# the kernel from handing them out as ephemeral ports; otherwise say nothing and hope.
reserve_ports() {
  local f=/proc/sys/net/ipv4/ip_local_reserved_ports want="9000,19092-19093,29092-29093,39092-39094,39192-39194"
  [[ $(id -u) -eq 0 && -w $f ]] || return 0
  local have; have="$(cat "$f")"
  [[ "$have" == *"$want"* ]] && return 0
  echo "${have:+$have,}$want" >"$f" 2>/dev/null || true
}

# ---------------------------------------------------------------- kafka
kafka_cluster_dir() { case "$1" in cluster3-*) echo "$SERVICES_DIR/cluster3" ;; *) svc_dir "$1" ;; esac; }

kafka_cluster_id() {
  local cdir; cdir="$(kafka_cluster_dir "$1")"
  mkdir -p "$cdir"
  if [[ ! -s "$cdir/cluster.id" ]]; then
    # Kafka's own `kafka-storage random-uuid`: a hand-made base64 id starts with "-" one time in 64,
    # which kafka-storage's argument parser then takes for an option ("--cluster-id/-t: expected one
    # argument"); Kafka's Uuid.randomUuid() never makes one.
    "$JAVA" -cp "$KAFKA_LIBS/*" -Dlog4j.configuration="file:$OPS_DIR/config/tools-log4j.properties" \
      kafka.tools.StorageTool random-uuid | tr -d '\n' >"$cdir/cluster.id.tmp"
    [[ -s "$cdir/cluster.id.tmp" && "$(cat "$cdir/cluster.id.tmp")" != -* ]] || die "kafka-storage random-uuid gave no usable id"
    mv "$cdir/cluster.id.tmp" "$cdir/cluster.id"
  fi
  cat "$cdir/cluster.id"
}

write_kafka_config() {
  local name="$1" dir port cport node voters rf isr
  dir="$(svc_dir "$name")"; port="$(svc_port "$name")"; cport="$(svc_cport "$name")"
  node="$(svc_node_id "$name")"
  case "$name" in
    cluster3-*) voters="1@127.0.0.1:39192,2@127.0.0.1:39193,3@127.0.0.1:39194"; rf=3; isr=2 ;;
    *) voters="1@127.0.0.1:$cport"; rf=1; isr=1 ;;
  esac
  cat >"$dir/server.properties" <<EOF
# generated by ops/services.sh for "$name" — edits are overwritten at each start
process.roles=broker,controller
node.id=$node
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data

# small machine (2 cores)
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
background.threads=4

# topics
num.partitions=16
auto.create.topics.enable=true
delete.topic.enable=true
default.replication.factor=$rf
min.insync.replicas=$isr

# internal topics (fewer partitions than the default 50: faster first group/transaction on 2 cores)
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=8

# fast tests
group.initial.rebalance.delay.ms=0

log.retention.hours=168
log.segment.bytes=1073741824
# Every 10 s instead of 5 min: a topic with a small retention.bytes (the load bench's) is trimmed in time
# on a developer's disk. The check itself only compares segment sizes and times.
log.retention.check.interval.ms=10000
EOF
}

start_kafka() {
  local name="$1" dir cid heap
  dir="$(svc_dir "$name")"
  mkdir -p "$dir/data"
  write_kafka_config "$name"
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    cid="$(kafka_cluster_id "$name")"
    log "$name: formatting storage (cluster id $cid)"
    "$JAVA" -cp "$KAFKA_LIBS/*" -Dlog4j.configuration="file:$OPS_DIR/config/tools-log4j.properties" \
      kafka.tools.StorageTool format --ignore-formatted -t "$cid" -c "$dir/server.properties" \
      >"$dir/format.log" 2>&1 || { cat "$dir/format.log" >&2; die "$name: storage format failed"; }
  fi
  [[ -f "$dir/server.log" ]] && mv -f "$dir/server.log" "$dir/server.log.prev"
  : >"$dir/stdout.log"
  case "$name" in cluster3-*) heap="$CLUSTER3_HEAP" ;; *) heap="$KAFKA_HEAP" ;; esac
  # shellcheck disable=SC2086
  launch "$dir" "$dir/stdout.log" "$JAVA" $heap \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dzads.service="$name" \
    -Dkafka.logs.dir="$dir" -Dlog4j.configuration="file:$OPS_DIR/config/kafka-log4j.properties" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties"
}

kafka_ready() {
  local name="$1" dir; dir="$(svc_dir "$name")"
  port_open "$(svc_port "$name")" && grep -q 'Kafka Server started' "$dir/server.log" 2>/dev/null
}

# ---------------------------------------------------------------- s3proxy
start_s3() {
  local dir; dir="$(svc_dir s3)"
  mkdir -p "$dir/data"
  cat >"$dir/s3proxy.conf" <<EOF
# generated by ops/services.sh — edits are overwritten at each start
s3proxy.endpoint=http://127.0.0.1:$(svc_port s3)
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$S3_ACCESS_KEY
s3proxy.credential=$S3_SECRET_KEY
jclouds.provider=filesystem-nio2
jclouds.filesystem.basedir=$dir/data
EOF
  [[ -f "$dir/server.log" ]] && mv -f "$dir/server.log" "$dir/server.log.prev"
  # shellcheck disable=SC2086
  LOG_LEVEL=info JETTY_LOG_LEVEL=warn launch "$dir" "$dir/server.log" "$JAVA" $S3_HEAP \
    -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true -Dzads.service=s3 \
    -Dlogback.statusListenerClass=ch.qos.logback.core.status.NopStatusListener \
    -jar "$S3PROXY_JAR" --properties "$dir/s3proxy.conf"
}

s3_ready() {
  local code
  code="$(curl -s -o /dev/null -m 3 -w '%{http_code}' "http://127.0.0.1:$(svc_port s3)/" 2>/dev/null || true)"
  [[ -n "$code" && "$code" != 000 ]]
}

# ---------------------------------------------------------------- commands
svc_up() {
  local name="$1" dir pid; dir="$(svc_dir "$name")"; pid="$(read_pid "$dir")"
  pid_is_ours "$pid" "$dir" && port_open "$(svc_port "$name")"
}

cmd_start() {
  local names=() name dir pid port t0 failed=0
  names_text=$(expand_names "${DEFAULT_START[@]}" -- "$@") || exit 1
  mapfile -t names <<<"$names_text"
  load_artifacts
  reserve_ports
  local launched=() t_start=()
  for name in "${names[@]}"; do
    dir="$(svc_dir "$name")"; port="$(svc_port "$name")"
    mkdir -p "$dir"
    pid="$(read_pid "$dir")"
    if pid_is_ours "$pid" "$dir"; then
      if port_open "$port"; then log "$name: already running (pid $pid, port $port)"; continue; fi
      log "$name: pid $pid alive but port $port not answering yet: waiting for it"
      launched+=("$name"); t_start+=("$(now)"); continue
    fi
    rm -f "$dir/pid"
    # a process of ours whose pid file was lost: adopt it
    pid="$(orphans_of "$dir" | head -n 1)"
    if [[ -n "$pid" ]]; then
      echo "$pid" >"$dir/pid"
      log "$name: adopted running process $pid (its pid file was missing)"
      if port_open "$port"; then continue; fi
      launched+=("$name"); t_start+=("$(now)"); continue
    fi
    if port_open "$port"; then
      die "$name: port $port is taken by a process that is not ours (see: ss -ltnp 'sport = :$port')"
    fi
    if [[ $(svc_kind "$name") == kafka ]] && port_open "$(svc_cport "$name")"; then
      die "$name: controller port $(svc_cport "$name") is taken by a process that is not ours"
    fi
    log "$name: starting on 127.0.0.1:$port"
    if [[ $(svc_kind "$name") == s3 ]]; then start_s3; else start_kafka "$name"; fi
    launched+=("$name"); t_start+=("$(now)")
  done
  local i
  for i in "${!launched[@]}"; do
    name="${launched[$i]}"; t0="${t_start[$i]}"; dir="$(svc_dir "$name")"
    while :; do
      pid="$(read_pid "$dir")"
      if [[ $(svc_kind "$name") == s3 ]]; then s3_ready && break; else kafka_ready "$name" && break; fi
      if ! pid_is_ours "$pid" "$dir"; then
        log "$name: process exited during start-up"; failed=1; break
      fi
      if (( $(now) - t0 > START_TIMEOUT )); then
        log "$name: not answering after ${START_TIMEOUT}s"; failed=1; break
      fi
      sleep 0.5
    done
    if [[ $failed == 1 ]]; then
      local f
      for f in "$dir/server.log" "$dir/stdout.log"; do
        [[ -s "$f" ]] && { log "---- last 40 lines of $f"; tail -n 40 "$f" >&2; }
      done
      die "$name failed to start"
    fi
    log "$name: up (pid $(read_pid "$dir"), 127.0.0.1:$(svc_port "$name")) after $(( $(now) - t0 ))s"
  done
}

cmd_stop() {
  local names=() name dir pid p pids=() owners=()
  names_text=$(expand_names "${ALL[@]}" -- "$@") || exit 1
  mapfile -t names <<<"$names_text"
  for name in "${names[@]}"; do
    dir="$(svc_dir "$name")"
    pid="$(read_pid "$dir")"
    if pid_is_ours "$pid" "$dir"; then
      pids+=("$pid"); owners+=("$name")
    fi
    for p in $(orphans_of "$dir"); do
      if [[ "$p" != "$pid" ]]; then
        log "$name: found stray java process $p for $dir (no pid file): stopping it too"
        pids+=("$p"); owners+=("$name")
      fi
    done
  done
  local i
  for i in "${!pids[@]}"; do
    log "${owners[$i]}: stopping pid ${pids[$i]} (TERM)"
    kill -TERM "${pids[$i]}" 2>/dev/null || true
  done
  local deadline=$(( $(now) + STOP_TIMEOUT )) alive
  while :; do
    alive=()
    for i in "${!pids[@]}"; do kill -0 "${pids[$i]}" 2>/dev/null && alive+=("$i"); done
    [[ ${#alive[@]} -eq 0 ]] && break
    if (( $(now) >= deadline )); then
      for i in "${alive[@]}"; do
        log "${owners[$i]}: pid ${pids[$i]} still alive after ${STOP_TIMEOUT}s: KILL"
        kill -KILL "${pids[$i]}" 2>/dev/null || true
      done
      sleep 0.5
      break
    fi
    sleep 0.3
  done
  for name in "${names[@]}"; do
    dir="$(svc_dir "$name")"
    rm -f "$dir/pid"
  done
  for name in "${names[@]}"; do
    [[ " ${owners[*]} " == *" $name "* ]] && log "$name: stopped" || true
  done
}

cmd_status() {
  local names=() name dir pid state rc=0 explicit=$#
  names_text=$(expand_names "${ALL[@]}" -- "$@") || exit 1
  mapfile -t names <<<"$names_text"
  printf '%-11s %-8s %-6s %-5s %s\n' SERVICE PID PORT STATE DIR
  for name in "${names[@]}"; do
    dir="$(svc_dir "$name")"; pid="$(read_pid "$dir")"
    if svc_up "$name"; then state=up
    elif pid_is_ours "$pid" "$dir"; then state=start; rc=1   # alive, port not answering yet
    elif port_open "$(svc_port "$name")"; then state=other; pid=-; rc=1  # port held by a process not ours
    else state=down; pid=-; rc=1; fi
    printf '%-11s %-8s %-6s %-5s %s\n' "$name" "${pid:--}" "$(svc_port "$name")" "$state" "$dir"
  done
  # with explicit names the exit code says whether all of them are up
  if [[ $explicit -gt 0 ]]; then return $rc; fi
  return 0
}

cmd_reset() {
  cmd_stop "$@"
  if [[ $# -eq 0 ]]; then
    log "deleting $SERVICES_DIR"; rm -rf "$SERVICES_DIR"
  else
    local names=() name
    names_text=$(expand_names -- "$@") || exit 1
    mapfile -t names <<<"$names_text"
    for name in "${names[@]}"; do log "$name: deleting $(svc_dir "$name")"; rm -rf "$(svc_dir "$name")"; done
    # a cluster3 wiped whole gets a new cluster id
    if [[ ! -d "$SERVICES_DIR/cluster3/node1" && ! -d "$SERVICES_DIR/cluster3/node2" &&
          ! -d "$SERVICES_DIR/cluster3/node3" ]]; then rm -rf "$SERVICES_DIR/cluster3"; fi
  fi
}

usage() { sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

main() {
  local cmd="${1:-}"; shift || true
  case "$cmd" in
    start|stop|reset)
      mkdir -p "$SERVICES_DIR"
      # one start/stop/reset at a time
      exec 9>"$SERVICES_DIR/.lock"
      flock -w 300 9 || die "another ops/services.sh holds $SERVICES_DIR/.lock"
      "cmd_$cmd" "$@" ;;
    status) cmd_status "$@" ;;
    -h|--help|help|"") usage ;;
    *) usage; exit 2 ;;
  esac
}

main "$@"
