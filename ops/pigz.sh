#!/usr/bin/env bash
# Makes sure pigz (parallel gzip, the baseline of the bench's close stage) is installed. Idempotent:
# nothing happens when it is on PATH. Installs the Debian/Ubuntu package when run as root with apt-get;
# otherwise says what to run and exits 1.
set -euo pipefail

if command -v pigz >/dev/null 2>&1; then
  exit 0
fi
if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
  echo "pigz: installing the Debian package (apt-get install -y pigz)" >&2
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q pigz >&2; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q pigz >&2
  fi
  command -v pigz >/dev/null 2>&1 && exit 0
fi
echo "pigz is not installed and could not be installed here: run 'sudo apt-get install -y pigz' (Debian/Ubuntu), 'sudo dnf install pigz' or 'brew install pigz'" >&2
exit 1
