#!/usr/bin/env bash
# Makes sure Debian's chromium is installed: the web-page tests drive it headless with playwright-core.
# Idempotent: does nothing when it is there. Installing needs root (or sudo without a password).
set -euo pipefail

BIN="${ZADS_TEST_CHROMIUM:-/usr/bin/chromium}"
if [[ -x "$BIN" ]]; then
  exit 0
fi
if [[ $(id -u) -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "[chromium] $BIN is missing and installing it needs root: run 'sudo apt-get install chromium'" >&2
  exit 1
fi
echo "[chromium] installing Debian's chromium (apt-get) ..."
"${SUDO[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null
"$BIN" --version
