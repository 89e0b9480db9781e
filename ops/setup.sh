#!/usr/bin/env bash
# Installs everything ZADS-TS needs from the repository's own files, on a fresh machine of our kind
# (Debian, Node.js 20, Java 17 + Maven, the npm registry, Maven Central, PyPI and Debian's packages):
#   1. the build tools of the Kafka client's native part (g++, make, python3, libssl-dev, zlib1g-dev),
#      from Debian's packages when run as root and they are missing;
#   2. the npm packages (npm ci). @confluentinc/kafka-javascript compiles librdkafka here against the
#      system OpenSSL and zlib (CKJS_LINKING=dynamic, ~1-2 min): its prebuilt binary comes from GitHub,
#      which this kind of machine cannot reach, and its default static build needs downloads too.
#      On a machine with internet, ZADS_KAFKA_PREBUILT=1 takes the prebuilt binary instead (seconds);
#   3. the Python virtual environment (.venv) for Python filters and the tests (ops/python-env.sh);
#   4. Apache Kafka and S3Proxy from Maven Central into .cache/ (ops/fetch.sh).
# Idempotent: npm ci runs again only when package-lock.json changed since the last setup.
#
#   bash ops/setup.sh            # or: npm run setup
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
log() { printf '[setup] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v node >/dev/null || die "node not found: install Node.js 20"
[[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ]] || die "Node.js 20 or newer is needed (found $(node --version))"

# 1. native build tools
if [[ "${ZADS_KAFKA_PREBUILT:-0}" != 1 ]]; then
  missing=()
  command -v g++ >/dev/null || missing+=(g++)
  command -v make >/dev/null || missing+=(make)
  command -v python3 >/dev/null || missing+=(python3)
  [[ -f /usr/include/openssl/ssl.h ]] || missing+=(libssl-dev)
  [[ -f /usr/include/zlib.h ]] || missing+=(zlib1g-dev)
  if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
      log "installing build tools for the Kafka client: ${missing[*]}"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null ||
        { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; }
    else
      die "the Kafka client is compiled here and needs: ${missing[*]} (sudo apt-get install ${missing[*]}); or set ZADS_KAFKA_PREBUILT=1 on a machine with internet"
    fi
  fi
fi

# 2. npm packages
stamp=node_modules/.zads-setup-stamp
want="$(sha256sum package-lock.json | cut -c1-64) prebuilt=${ZADS_KAFKA_PREBUILT:-0}"
native=node_modules/@confluentinc/kafka-javascript/build/Release/confluent-kafka-javascript.node
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -f "$native" ]]; then
  log "npm packages up to date"
else
  t0=$(date +%s)
  if [[ "${ZADS_KAFKA_PREBUILT:-0}" == 1 ]]; then
    log "npm ci (Kafka client: prebuilt binary)"
    npm ci --no-audit --no-fund
  else
    log "npm ci (Kafka client: compiling librdkafka against the system OpenSSL and zlib, ~2 min)"
    CKJS_LINKING=dynamic npm ci --no-audit --no-fund
  fi
  [[ -f "$native" ]] || die "the Kafka client's native module was not built ($native missing); see the npm output above"
  echo "$want" >"$stamp"
  log "npm packages installed in $(( $(date +%s) - t0 ))s"
fi

# 3. Python filters' virtual environment
bash ops/python-env.sh

# 4. Kafka and S3Proxy
bash ops/fetch.sh
log "done: 'npm run demo' runs the whole chain on the local services, 'npm test' the tests"
