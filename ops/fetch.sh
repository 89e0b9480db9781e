#!/usr/bin/env bash
# Fetch Apache Kafka (broker + tools) and S3Proxy from Maven Central into the
# ignored cache folder. Idempotent: a finished fetch leaves a ".complete" marker
# and is not repeated. Uses only Maven with a local repository inside the cache.
#
#   bash ops/fetch.sh            # fetch what is missing
#   bash ops/fetch.sh --force    # re-fetch
#   bash ops/fetch.sh --mm2      # also Kafka MirrorMaker 2 (connect-mirror + connect-runtime), for the
#                                # benchmark's mirrormaker2 baseline only; combines with --force
#
# Env: ZADS_CACHE_DIR (default <repo>/.cache)
#      ZADS_KAFKA_VERSIONS   candidate Kafka versions, first that resolves wins
#      ZADS_S3PROXY_VERSIONS candidate S3Proxy versions, first that resolves wins
# Writes $ZADS_CACHE_DIR/versions.env (KAFKA_VERSION, KAFKA_LIBS, S3PROXY_VERSION, S3PROXY_JAR, and
# MM2_VERSION, MM2_LIBS once MirrorMaker 2 of that Kafka version has been fetched).
#
# MirrorMaker 2 is fetched only when asked: ~60 jars (~32 MB: Connect runtime, Jetty, Jersey) that neither
# the services nor the test suite use, so CI's setup does not pay for them. The bench stage that needs it
# runs "ops/fetch.sh --mm2" itself when MM2_LIBS is missing.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${ZADS_CACHE_DIR:-$REPO_ROOT/.cache}"
KAFKA_VERSIONS="${ZADS_KAFKA_VERSIONS:-3.9.2 3.9.1}"
S3PROXY_VERSIONS="${ZADS_S3PROXY_VERSIONS:-4.1.0 4.0.0}"
# Kafka 3.9 ships slf4j 1.7.36 + reload4j as its logging binding; the Maven pom
# of kafka_2.13 carries only slf4j-api, so the binding is added explicitly.
SLF4J_VERSION=1.7.36
RELOAD4J_VERSION=1.2.25
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.6.1

FORCE=0
WANT_MM2=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --mm2) WANT_MM2=1 ;;
    *) printf '[fetch] unknown option %s (use --force, --mm2)\n' "$arg" >&2; exit 2 ;;
  esac
done

mkdir -p "$CACHE_DIR"
CACHE_DIR="$(cd "$CACHE_DIR" && pwd)"
M2="$CACHE_DIR/m2"
LOG="$CACHE_DIR/fetch.log"
MVN=(mvn -B -q -Dmaven.repo.local="$M2" -Dstyle.color=never)

log() { printf '[fetch] %s\n' "$*" >&2; }

command -v mvn >/dev/null || { log "mvn not found (install Maven 3.8+)"; exit 1; }
command -v java >/dev/null || { log "java not found (install a JDK 17+)"; exit 1; }

# write_pom <dir> <dependencies-xml>
write_pom() {
  mkdir -p "$1"
  cat >"$1/pom.xml" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>zads.ops</groupId>
  <artifactId>fetch</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
$2
  </dependencies>
</project>
POM
}

# copy_deps <pom-dir> <output-dir> [extra mvn args...]
copy_deps() {
  local pomdir="$1" out="$2"; shift 2
  "${MVN[@]}" -f "$pomdir/pom.xml" "$DEP_PLUGIN:copy-dependencies" \
    -DoutputDirectory="$out" -DincludeScope=runtime "$@" >>"$LOG" 2>&1
}

fetch_kafka() {
  local v dir
  for v in $KAFKA_VERSIONS; do
    dir="$CACHE_DIR/kafka-$v"
    if [[ $FORCE == 0 && -f "$dir/.complete" ]]; then
      log "kafka $v already in $dir/libs"; KAFKA_VERSION=$v; return 0
    fi
  done
  for v in $KAFKA_VERSIONS; do
    dir="$CACHE_DIR/kafka-$v"
    log "fetching kafka_2.13 + kafka-tools $v (with runtime deps) ..."
    rm -rf "$dir"
    write_pom "$dir/pom" "
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$v</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$v</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>$SLF4J_VERSION</version></dependency>
    <dependency><groupId>ch.qos.reload4j</groupId><artifactId>reload4j</artifactId><version>$RELOAD4J_VERSION</version></dependency>"
    if copy_deps "$dir/pom" "$dir/libs" -DexcludeArtifactIds=slf4j-log4j12,log4j,logback-classic,logback-core; then
      if ls "$dir/libs/kafka_2.13-$v.jar" "$dir/libs/kafka-tools-$v.jar" >/dev/null 2>&1; then
        date -u +%FT%TZ >"$dir/.complete"
        log "kafka $v: $(ls "$dir/libs" | wc -l) jars in $dir/libs"
        KAFKA_VERSION=$v; return 0
      fi
    fi
    log "kafka $v did not resolve (see $LOG)"; rm -rf "$dir"
  done
  log "ERROR: none of the Kafka versions [$KAFKA_VERSIONS] could be fetched; see $LOG"
  tail -n 30 "$LOG" >&2 || true
  return 1
}

fetch_s3proxy() {
  local v dir
  for v in $S3PROXY_VERSIONS; do
    dir="$CACHE_DIR/s3proxy-$v"
    if [[ $FORCE == 0 && -f "$dir/.complete" ]]; then
      log "s3proxy $v already in $dir"; S3PROXY_VERSION=$v; return 0
    fi
  done
  for v in $S3PROXY_VERSIONS; do
    dir="$CACHE_DIR/s3proxy-$v"
    log "fetching s3proxy $v (jar-with-dependencies) ..."
    rm -rf "$dir"
    # The jar-with-dependencies classifier is self-contained: exclude transitive deps.
    write_pom "$dir/pom" "
    <dependency><groupId>org.gaul</groupId><artifactId>s3proxy</artifactId><version>$v</version>
      <classifier>jar-with-dependencies</classifier>
      <exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions>
    </dependency>"
    if copy_deps "$dir/pom" "$dir" && [[ -f "$dir/s3proxy-$v-jar-with-dependencies.jar" ]]; then
      mv "$dir/s3proxy-$v-jar-with-dependencies.jar" "$dir/s3proxy.jar"
      date -u +%FT%TZ >"$dir/.complete"
      log "s3proxy $v: $dir/s3proxy.jar"
      S3PROXY_VERSION=$v; return 0
    fi
    log "s3proxy $v did not resolve (see $LOG)"; rm -rf "$dir"
  done
  log "ERROR: none of the S3Proxy versions [$S3PROXY_VERSIONS] could be fetched; see $LOG"
  tail -n 30 "$LOG" >&2 || true
  return 1
}

# MirrorMaker 2 of the broker's Kafka version: connect-mirror (with connect-mirror-client and
# connect-runtime, and their runtime deps) in a libs folder of its own, run as
# java -cp "$MM2_LIBS/*" org.apache.kafka.connect.mirror.MirrorMaker <mm2.properties>.
# connect-runtime brings reload4j; the slf4j binding is added explicitly, as for Kafka.
fetch_mm2() {
  local v=$KAFKA_VERSION dir="$CACHE_DIR/connect-mirror-$KAFKA_VERSION"
  if [[ $FORCE == 0 && -f "$dir/.complete" ]]; then
    log "mirrormaker 2 $v already in $dir/libs"; return 0
  fi
  log "fetching connect-mirror + connect-runtime $v (with runtime deps) ..."
  rm -rf "$dir"
  write_pom "$dir/pom" "
    <dependency><groupId>org.apache.kafka</groupId><artifactId>connect-mirror</artifactId><version>$v</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>connect-mirror-client</artifactId><version>$v</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId><version>$v</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>$SLF4J_VERSION</version></dependency>
    <dependency><groupId>ch.qos.reload4j</groupId><artifactId>reload4j</artifactId><version>$RELOAD4J_VERSION</version></dependency>"
  if copy_deps "$dir/pom" "$dir/libs" -DexcludeArtifactIds=slf4j-log4j12,log4j,logback-classic,logback-core \
    && ls "$dir/libs/connect-mirror-$v.jar" "$dir/libs/connect-runtime-$v.jar" "$dir/libs/kafka-clients-$v.jar" >/dev/null 2>&1; then
    date -u +%FT%TZ >"$dir/.complete"
    log "mirrormaker 2 $v: $(ls "$dir/libs" | wc -l) jars in $dir/libs"
    return 0
  fi
  log "ERROR: connect-mirror $v did not resolve; see $LOG"; rm -rf "$dir"
  tail -n 30 "$LOG" >&2 || true
  return 1
}

start_ts=$(date +%s)
: >"$LOG"
KAFKA_VERSION=""; S3PROXY_VERSION=""
fetch_kafka
fetch_s3proxy
if [[ $WANT_MM2 == 1 ]]; then fetch_mm2; fi
# Kept in versions.env by every run once fetched, with or without --mm2.
MM2_ENV=""
if [[ -f "$CACHE_DIR/connect-mirror-$KAFKA_VERSION/.complete" ]]; then
  MM2_ENV="MM2_VERSION=$KAFKA_VERSION"$'\n'"MM2_LIBS=$CACHE_DIR/connect-mirror-$KAFKA_VERSION/libs"$'\n'
fi

tmp="$CACHE_DIR/versions.env.tmp"
cat >"$tmp" <<ENV
# written by ops/fetch.sh
KAFKA_VERSION=$KAFKA_VERSION
KAFKA_LIBS=$CACHE_DIR/kafka-$KAFKA_VERSION/libs
S3PROXY_VERSION=$S3PROXY_VERSION
S3PROXY_JAR=$CACHE_DIR/s3proxy-$S3PROXY_VERSION/s3proxy.jar
ENV
printf '%s' "$MM2_ENV" >>"$tmp"
mv "$tmp" "$CACHE_DIR/versions.env"
log "done in $(( $(date +%s) - start_ts ))s: kafka $KAFKA_VERSION, s3proxy $S3PROXY_VERSION${MM2_ENV:+, mirrormaker 2 $KAFKA_VERSION} ($CACHE_DIR/versions.env)"
