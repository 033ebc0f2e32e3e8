"""ClassiTune entry point: builds the Gradio app and launches it (``python app.py``, or a Hugging Face Space).

Options: ``--port`` (default 7860, or ``PORT``/``GRADIO_SERVER_PORT``), ``--host``, ``--mcp`` (also serve the API
endpoints as MCP tools at ``/gradio_api/mcp/``).
"""

from __future__ import annotations

import argparse
import logging
import os

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Gradio's run-history routes (/gradio_api/runs, /gradio_api/run-history/*) act with the machine's saved Hugging Face
# token for any request that looks local, which a same-host reverse proxy makes every visitor's: off, for good.
os.environ["GRADIO_RUN_HISTORY"] = "False"


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the ClassiTune app.")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", os.environ.get("PORT", 7860))))
    parser.add_argument("--mcp", action="store_true", help="also expose the API endpoints as MCP tools")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from trainer.hub.hub_auth import seal_operator_token

    seal_operator_token()  # before anything can reach the Hub: no visitor's request carries the operator's token
    from transformers.utils import logging as hf_logging

    from space.style import CSS
    from space.ui import build_app

    hf_logging.disable_progress_bar()

    app = build_app()
    app.queue(default_concurrency_limit=8)
    app.launch(server_name=args.host, server_port=args.port, mcp_server=args.mcp or None, show_error=False, css=CSS,
               run_history=False, max_file_size=os.environ.get("CLASSITUNE_MAX_UPLOAD_MB", "200") + "mb")


if __name__ == "__main__":
    main()
