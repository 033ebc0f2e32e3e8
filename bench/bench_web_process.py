"""The web process while one user runs heavy work: its memory, and another user's latency (issue 32's measure).

    python bench/bench_web_process.py --rows 20000

Starts the app (``python app.py``) on a fresh data root; user A asks for the likely label errors of a ~5 MB
AG News file (``find_label_errors``; the search runs in its own process); user B validates a 60-row file every
second meanwhile. Prints the web process's resident memory (before, peak, after) and B's latencies.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pandas as pd

from common import ROOT, SHARED, latency_summary as summary, machine


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class OtherUser(threading.Thread):
    """User B: validates a small file every second through the API, noting each latency and the app's peak memory."""

    def __init__(self, url: str, small: Path, app_pid: int):
        from gradio_client import Client

        super().__init__(daemon=True)
        self.client, self.small, self.pid = Client(url, verbose=False), small, app_pid
        self.latencies, self.peak, self.done = [], 0.0, threading.Event()
        self.validate()  # warm

    def validate(self) -> None:
        from gradio_client import handle_file

        self.client.predict(handle_file(str(self.small)), "", "", api_name="/validate_dataset")

    def run(self) -> None:  # noqa: D102 (threading.Thread's entry point)
        while not self.done.is_set():
            started = time.perf_counter()
            self.validate()
            self.latencies.append(time.perf_counter() - started)
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(1)

    def stop(self) -> None:
        self.done.set()
        self.join()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20000)
    args = parser.parse_args()
    from gradio_client import Client, handle_file

    work = Path(tempfile.mkdtemp(prefix="bench-web-"))
    texts = pd.read_csv(SHARED / "ag_news" / "test.csv").sample(n=args.rows, replace=True, random_state=0)
    texts[["text", "label"]].to_csv(work / "big.csv", index=False)
    texts.head(60)[["text", "label"]].to_csv(work / "small.csv", index=False)
    port = free_port()
    env = {**os.environ, "CLASSITUNE_DATA_ROOT": str(work / "root"), "HF_HUB_OFFLINE": "1"}
    app = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                           stdout=open(work / "app.log", "w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    a = Client(url, verbose=False)
    before, other = rss_mb(app.pid), OtherUser(url, work / "small.csv", app.pid)
    other.start()
    started = time.time()
    report = a.predict(handle_file(str(work / "big.csv")), "", "", api_name="/find_label_errors")
    search_s = time.time() - started
    other.stop()
    after = rss_mb(app.pid)
    app.terminate()
    print(json.dumps({"machine": machine(), "rows": args.rows, "file_mb": round((work / "big.csv").stat().st_size / 2**20, 1),
                      "label_error_search_s": round(search_s, 1), "flagged": report.get("flagged"),
                      "web_rss_mb": {"before": round(before), "peak": round(max(other.peak, after)), "after": round(after)},
                      "other_user_validate_latency": summary(other.latencies)}, indent=1))


if __name__ == "__main__":
    main()
