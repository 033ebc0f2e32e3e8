"""Launch and stop the real app (``python app.py``) on a data root: shared by the tests and the load benchmark."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UPLOAD_LIMIT_MB = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch_app(root: Path, hub_url: str, port: int | None = None, **extra_env: str):
    """Start ``python app.py`` on a data root, its Hub being the stand-in; return (process, URL) once it serves."""
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "SPACE_ID")}
    env.update(CLASSITUNE_DATA_ROOT=str(root), HF_ENDPOINT=hub_url, HF_HUB_OFFLINE="0", HF_HOME=str(root / "hf-home"),
               CLASSITUNE_MAX_UPLOAD_MB=str(UPLOAD_LIMIT_MB), HF_HUB_DISABLE_XET="1", **extra_env)
    log = open(root / "app.log", "a")
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--mcp"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(url, timeout=2)
            return proc, url
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError((root / "app.log").read_text()) from None
            time.sleep(0.5)
    raise RuntimeError("The app did not start in 120 s:\n" + (root / "app.log").read_text())


def stop_app(proc, root: Path) -> None:
    """Stop the app and any training worker still running under its data root."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except ProcessLookupError:
        pass
    subprocess.run(["pkill", "-f", str(root)], check=False)


FINISHED = ("succeeded", "failed", "cancelled")


def wait_for_state(client, run_id: str, states: tuple[str, ...] = FINISHED, timeout: float = 900) -> dict:
    """Poll ``run_status`` through a ``gradio_client`` Client until the run reaches one of ``states``."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = client.predict(run_id, api_name="/run_status")
        if status["state"] in states:
            return status
        time.sleep(0.5)
    raise TimeoutError(f"run {run_id} still {status['state']} after {timeout:.0f} s")


def fn_index_of(url: str, button_label: str) -> int:
    """The index of the event a button triggers, read from the app's public /config (private events included)."""
    import json

    config = json.loads(urllib.request.urlopen(f"{url}/config", timeout=10).read())
    ids = {c["id"] for c in config["components"] if c.get("props", {}).get("value") == button_label}
    for index, dependency in enumerate(config["dependencies"]):
        if any(target[0] in ids for target in dependency.get("targets", [])):
            return dependency.get("id", index)
    raise LookupError(f"no event is triggered by a button labelled {button_label!r}")


def call_by_fn_index(url: str, fn_index: int, data: list, timeout: float = 60) -> dict:
    """Call any event, private ones included, the raw way a script can: queue/join, then read the event stream.

    Returns the final message: ``{"success": True, "output": {"data": [...]}}`` or ``{"success": False, ...}``.
    """
    import json
    import uuid

    import httpx

    session = uuid.uuid4().hex
    httpx.post(f"{url}/gradio_api/queue/join", timeout=timeout,
               json={"data": data, "fn_index": fn_index, "session_hash": session}).raise_for_status()
    with httpx.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": session}, timeout=timeout) as sse:
        for line in sse.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    return message
    raise RuntimeError("the event stream ended without a result")


def error_of(message: dict) -> str | None:
    """The error an event reported: raised (a toast), or written into its error box (space/common.shown_errors:
    the last output, made visible); None if it succeeded."""
    if message.get("success") is False:
        return str(message.get("output", {}).get("error") or message)
    last = (message.get("output", {}).get("data") or [None])[-1]
    if isinstance(last, dict) and last.get("visible") and str(last.get("value", "")).startswith("⚠️"):
        return last["value"]
    return None
