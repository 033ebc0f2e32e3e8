"""Load: concurrent ``gradio_client`` callers send predictions while a training run is in progress.

What it shows: no request fails, p50 / p99 latency under load, and a run trained under that
load ends with the same metrics as the same run trained alone.

    python bench/load_predict.py --callers 20 --requests 500

It launches the real app (``python app.py``) on a fresh data root, with the repository's
stand-in Hub for the sign-in (every caller is the same signed-in user, as a user's scripts
would be), trains run A alone, starts run B with the same settings, and sends the
predictions to run A's model while B trains. The test suite runs it at the same size.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from live import FINISHED, wait_for_state as wait  # noqa: E402

EXAMPLE = ROOT / "assets" / "banking77_sample.csv"
TOKEN = "hf_standin_write_alice"  # a stand-in Hub token (tests/hub_standin.py)
SETTINGS = {"epochs": 1, "method": "full", "seed": 7}
TEXTS = ["my card still has not arrived", "what exchange rate do you use?", "I want to cancel my transfer",
         "how do I top up by bank transfer?", "the ATM kept my card", "is there a fee for exchanging money?"]


def hammer(url: str, model: str, callers: int, requests: int, token: str = TOKEN) -> dict:
    """``callers`` clients (each its own connection and session) share ``requests`` one-text predictions."""
    from gradio_client import Client

    clients = [Client(url, oauth_token=token, verbose=False) for _ in range(callers)]
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    counter = itertools.count()

    def caller(client):
        while (i := next(counter)) < requests:
            started = time.perf_counter()
            try:
                result = client.predict([TEXTS[i % len(TEXTS)]], model, 1, False, api_name="/predict")
                assert len(result) == 1 and result[0]["label"], result
                with lock:
                    latencies.append(time.perf_counter() - started)
            except Exception as exc:  # counted and reported: the point is that there are none
                with lock:
                    failures.append(f"{type(exc).__name__}: {str(exc)[:200]}")

    started = time.perf_counter()
    with ThreadPoolExecutor(callers) as pool:
        list(pool.map(caller, clients))
    wall = time.perf_counter() - started
    ordered = sorted(latencies)
    return {"callers": callers, "requests": requests, "succeeded": len(latencies), "failed": len(failures),
            "failures": failures[:5], "wall_s": round(wall, 1), "requests_per_s": round(len(latencies) / wall, 1),
            "p50_ms": round(1000 * statistics.median(ordered), 1) if ordered else None,
            "p99_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1) if ordered else None,
            "max_ms": round(1000 * ordered[-1], 1) if ordered else None}


def load_during_training(url: str, callers: int, requests: int, settings: dict = SETTINGS) -> dict:
    """Train A alone, then hammer A's model while B (same settings) trains; compare A and B."""
    from gradio_client import Client, handle_file

    client = Client(url, oauth_token=TOKEN, verbose=False)
    alone = client.predict(handle_file(str(EXAMPLE)), "", "", settings, api_name="/start_training")
    a = wait(client, alone, FINISHED)
    assert a["state"] == "succeeded", a.get("error")
    loaded = client.predict(handle_file(str(EXAMPLE)), "", "", settings, api_name="/start_training")
    wait(client, loaded, ("running",))
    load = hammer(url, alone, callers, requests)
    load["training_state_after_load"] = client.predict(loaded, api_name="/run_status")["state"]
    b = wait(client, loaded, FINISHED)
    assert b["state"] == "succeeded", b.get("error")
    load["run_alone"], load["run_loaded"] = alone, loaded
    load["alone"] = {k: a["best"][k] for k in ("accuracy", "macro_f1")}
    load["under_load"] = {k: b["best"][k] for k in ("accuracy", "macro_f1")}
    load["train_time_alone_s"] = round(a["finished"] - a["started"], 1)
    load["train_time_under_load_s"] = round(b["finished"] - b["started"], 1)
    return load


def main() -> None:
    from hub_standin import StandinServer
    from live import free_port, launch_app, stop_app

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--callers", type=int, default=20)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    with StandinServer(free_port()) as hub, tempfile.TemporaryDirectory(prefix="classitune-load-") as tmp:
        proc, url = launch_app(Path(tmp), hub.url)
        try:
            print(json.dumps(load_during_training(url, args.callers, args.requests), indent=1))
        finally:
            stop_app(proc, Path(tmp))


if __name__ == "__main__":
    main()
