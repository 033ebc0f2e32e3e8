"""LoRA vs full fine-tuning, both ClassiTune's, same model, data and epochs: samples/s, peak memory, accuracy.

    python bench/bench_lora.py [--rows 2000] [--epochs 2] [--rounds 2]

Rotten Tomatoes: a shuffled slice of the training split, scored on the official 1,066-review
validation split. Each fine-tune runs in its own process. Memory: on a GPU the peak allocated GPU
memory; on the CPU what training adds to the process's resident memory (its peak during the
training phase minus its size when that phase began, sampled every 20 ms: gradients, optimizer
state and activations, not the imports or the loaded model, which differ by library). The two
alternate for ``--rounds`` rounds and the medians are reported, since a shared 2-core machine is noisy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench_train import ours
from common import machine, rotten_tomatoes


def one(method: str, rows: int, epochs: float) -> dict:
    import torch

    from trainer.runs.store import Run

    train, validation = rotten_tomatoes(rows)
    with tempfile.TemporaryDirectory() as tmp:
        peak = {"base_mb": None, "rss_mb": 0.0, "done": False}
        sampler = threading.Thread(target=_sample_training_rss, args=(Run(Path(tmp) / f"ours-{method}"), peak))
        sampler.start()
        result = ours(train, validation, epochs, method, Path(tmp))
        peak["done"] = True
        sampler.join()
    if torch.cuda.is_available():
        peak_mb = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak_mb = peak["rss_mb"] - (peak["base_mb"] or 0.0)
    return {**result, "memory_mb": round(peak_mb)}


def _sample_training_rss(run, peak: dict) -> None:
    while not peak["done"]:
        if run.status().get("phase") == "training":
            rss_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS"))
            if peak["base_mb"] is None:
                peak["base_mb"] = rss_kb / 1024
            peak["rss_mb"] = max(peak["rss_mb"], rss_kb / 1024)
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--epochs", type=float, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--one", choices=["full", "lora"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.rows, args.epochs)))
        return
    results: dict[str, list[dict]] = {"full": [], "lora": []}
    for _ in range(args.rounds):
        for method in results:
            out = subprocess.run([sys.executable, __file__, "--one", method, "--rows", str(args.rows),
                                  "--epochs", str(args.epochs)], capture_output=True, text=True, check=True)
            results[method].append(json.loads(out.stdout.strip().splitlines()[-1]))
    medians = {m: {k: statistics.median(r[k] for r in runs) for k in runs[0]} for m, runs in results.items()}
    print(json.dumps({"machine": machine(), "rows": args.rows, "epochs": args.epochs, "runs": results,
                      "median": medians,
                      "lora_over_full_samples_per_second": medians["lora"]["samples_per_second"]
                      / medians["full"]["samples_per_second"],
                      "lora_minus_full_accuracy_points": 100 * (medians["lora"]["accuracy"] - medians["full"]["accuracy"]),
                      "lora_over_full_memory": medians["lora"]["memory_mb"] / medians["full"]["memory_mb"]},
                     indent=1))


if __name__ == "__main__":
    main()
