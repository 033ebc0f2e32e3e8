"""Batch prediction: a background job's throughput beside the stock ``pipeline(batch_size=64)``, and another user's
instant-Predict latency while the job runs.

    python bench/bench_batch.py --rows 200000            # trains a small AG News run first (the default body)
    python bench/bench_batch.py --rows 200000 --run DIR  # or uses a finished run folder

The job is the product's own path (``python -m trainer batch-predict``, what the app's watcher starts, at a lower
CPU priority); the stock path is ``transformers.pipeline("text-classification", batch_size=64, truncation=True)``
on the same run's ``model/``, timed on the first ``--pipeline-rows`` texts. The latency is a one-text
``Classifier.predict`` in this process every half second: first with nothing else running, then during the job.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from common import ROOT, SHARED, latency_summary as summary, machine


def train_run(folder: Path) -> Path:
    """A 400-row AG News run (full fine-tune, one epoch), started as a user would from the command line (its texts
    then reappear among the 200,000 to classify: a throughput figure, not an accuracy one)."""
    data = pd.read_csv(SHARED / "ag_news" / "test.csv").sample(n=400, random_state=0)  # AG News ships its test split only
    data[["text", "label"]].to_csv(folder / "ag400.csv", index=False)
    subprocess.run([sys.executable, "-m", "trainer", "train", "--data", str(folder / "ag400.csv"), "--model", "default",
                    "--method", "full", "--epochs", "1", "--output", str(folder / "run")], cwd=ROOT, check=True)
    return folder / "run"


def latencies(classifier, seconds: float, stop=None) -> list[float]:
    found, deadline = [], time.time() + seconds
    while time.time() < deadline and not (stop and stop()):
        started = time.perf_counter()
        classifier.predict(["Stocks rallied after the central bank held rates."], top_k=1)
        found.append(time.perf_counter() - started)
        time.sleep(0.5)
    return found


def pipeline_rate(model_dir: Path, texts: list[str]) -> float:
    from transformers import pipeline

    classify = pipeline("text-classification", model=str(model_dir), batch_size=64, truncation=True, device=-1)
    classify(texts[:64])  # warm up
    started = time.perf_counter()
    classify(texts)
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--run", help="a finished run folder (default: train one)")
    parser.add_argument("--pipeline-rows", type=int, default=10_000)
    args = parser.parse_args()
    from trainer.predict import Classifier

    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    run = Path(args.run) if args.run else train_run(work)
    pool = pd.read_csv(SHARED / "ag_news" / "test.csv")["text"]
    texts = pool.sample(n=args.rows, replace=True, random_state=0).tolist()
    pd.DataFrame({"id": range(len(texts)), "text": texts}).to_parquet(work / "input.parquet")
    classifier = Classifier(str(run / "model"))
    idle = latencies(classifier, 10)
    stock = pipeline_rate(run / "model", texts[:args.pipeline_rows])
    started = time.time()
    job = subprocess.Popen([sys.executable, "-m", "trainer", "batch-predict", "--job", str(work / "job"), "--input",
                            str(work / "input.parquet"), "--model", str(run)], cwd=ROOT, stdout=subprocess.DEVNULL)
    busy = latencies(classifier, 24 * 3600, stop=lambda: job.poll() is not None)
    wall = time.time() - started
    status = json.loads((work / "job" / "status.json").read_text())
    out = pd.read_parquet(work / "job" / "input-predictions.parquet", columns=["id"])
    result = {"machine": machine(), "rows": args.rows, "state": status["state"], "job_wall_s": round(wall, 1),
              "job_rows_per_s_wall": round(args.rows / wall, 1), "job_rows_per_s_steady": status.get("rows_per_second"),
              "pipeline_rows_per_s": round(stock, 1), "rows_in_order": out["id"].tolist() == list(range(args.rows)),
              "predict_latency_idle": summary(idle), "predict_latency_during_job": summary(busy)}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
