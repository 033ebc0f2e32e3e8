#!/usr/bin/env bash
# Set up (first time) and run the app offline on the embedded default model: http://127.0.0.1:7860
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"
exec .venv/bin/python app.py "$@"
