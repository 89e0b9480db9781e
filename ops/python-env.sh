#!/usr/bin/env bash
# Creates the project's Python virtual environment for Python filters (and the tests that read alerts with
# fastavro) and installs ops/python/requirements.txt into it. Never installs anything system-wide.
# Idempotent: does nothing when the environment already holds exactly these requirements.
#
# Env: ZADS_PYTHON_VENV (default <repo>/.venv), ZADS_PYTHON_BASE (the interpreter that creates it, default python3).
# Prints nothing but errors when up to date; the interpreter is $ZADS_PYTHON_VENV/bin/python.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ZADS_PYTHON_VENV:-$REPO_ROOT/.venv}"
BASE="${ZADS_PYTHON_BASE:-python3}"
REQS="$REPO_ROOT/ops/python/requirements.txt"
STAMP="$VENV/.zads-requirements"

if [[ -x "$VENV/bin/python" && -f "$STAMP" ]] && cmp -s "$REQS" "$STAMP"; then
  exit 0
fi
if ! command -v "$BASE" >/dev/null; then
  echo "[python-env] $BASE not found: install Python 3.9+ (Debian: apt-get install python3 python3-venv)" >&2
  exit 1
fi
if [[ ! -x "$VENV/bin/python" ]]; then
  echo "[python-env] creating $VENV with $($BASE --version 2>&1)" >&2
  if ! "$BASE" -m venv "$VENV"; then
    echo "[python-env] '$BASE -m venv' failed: on Debian/Ubuntu install python3-venv" >&2
    exit 1
  fi
fi
echo "[python-env] installing $(grep -v '^#' "$REQS" | xargs) into $VENV" >&2
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQS"
"$VENV/bin/python" -c 'import fastavro' 
cp "$REQS" "$STAMP"
