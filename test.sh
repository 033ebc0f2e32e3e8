#!/usr/bin/env bash
# Set up (first time), lint, and run the whole test suite, browser tests included (installs Debian's chromium if missing).
# The quick tier (about 3 minutes on 2 cores, tiny models, no ../shared): bash test.sh -m quick
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
  else
    echo "Debian's chromium is missing (sudo apt-get install -y chromium); browser tests will be skipped." >&2
  fi
fi
bash scripts/setup.sh -r requirements-dev.txt
export HF_HUB_OFFLINE=1
.venv/bin/ruff check .
# One test process per core and one more (at most 4), whole files per process: the extra one works while the others
# wait on an app, a browser or a worker. conftest.py gives each its share of the threads.
workers=$(( $(nproc) + 1 < 4 ? $(nproc) + 1 : 4 ))
exec .venv/bin/python -m pytest -q -n "$workers" --dist loadfile --durations=30 "$@"
