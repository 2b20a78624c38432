#!/usr/bin/env bash
# Set up everything tracelake needs on a fresh machine: Java 17 for Spark, a
# headless Chromium for the report tests, and .venv with the project and its
# dev extras. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

need_apt=()
if ! java -version 2>&1 | grep -Eq 'version "(17|1[89]|2[0-9])'; then
  need_apt+=(openjdk-17-jre-headless)
fi
if [ "${TRACELAKE_SKIP_BROWSER:-0}" != "1" ] && ! command -v chromium >/dev/null 2>&1; then
  need_apt+=(chromium)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${need_apt[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "setup: please install ${need_apt[*]} (Debian/Ubuntu: sudo apt-get install -y ${need_apt[*]}), then run 'make setup' again" >&2
    case " ${need_apt[*]} " in *openjdk*) exit 1 ;; esac
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip setuptools wheel
.venv/bin/python -m pip install -q -e '.[dev]'
touch .venv/.installed
echo "setup: ready (.venv, $(java -version 2>&1 | head -n 1))"
