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
    a, b = Client(url, verbose=False), Client(url, verbose=False)
    b.predict(handle_file(str(work / "small.csv")), "", "", api_name="/validate_dataset")  # warm
    before, peak, latencies, done = rss_mb(app.pid), [0.0], [], threading.Event()

    def other_user():
        while not done.is_set():
            started = time.perf_counter()
            b.predict(handle_file(str(work / "small.csv")), "", "", api_name="/validate_dataset")
            latencies.append(time.perf_counter() - started)
            peak[0] = max(peak[0], rss_mb(app.pid))
            time.sleep(1)

    thread = threading.Thread(target=other_user, daemon=True)
    thread.start()
    started = time.time()
    report = a.predict(handle_file(str(work / "big.csv")), "", "", api_name="/find_label_errors")
    search_s = time.time() - started
    done.set()
    thread.join()
    after = rss_mb(app.pid)
    app.terminate()
    print(json.dumps({"machine": machine(), "rows": args.rows, "file_mb": round((work / "big.csv").stat().st_size / 2**20, 1),
                      "label_error_search_s": round(search_s, 1), "flagged": report.get("flagged"),
                      "web_rss_mb": {"before": round(before), "peak": round(max(peak[0], after)), "after": round(after)},
                      "other_user_validate_latency": summary(latencies)}, indent=1))


if __name__ == "__main__":
    main()
