#!/usr/bin/env bash
# Create .venv and install the pinned requirements (torch 2.13.0 CPU comes from the local wheel where there is one).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q torch==2.13.0
python -m pip install -q -r requirements.txt "$@"
