"""The Train tab's estimate against the time a run really takes: five runs of different sizes and methods.

    python bench/bench_estimate.py            # on this machine as it is
    python bench/bench_estimate.py --busy 2   # with 2 busy-looping processes beside it (a loaded, shared CPU)

Each run is prepared as the app prepares it (``Service.prepare``, which records the estimate a new user sees:
the default body's benchmark speed, no history) and trained by a worker process as the app starts one
(``python -m trainer worker``); the time is from starting that process to its end.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from common import ROOT, SHARED, machine

RUNS = [  # (dataset, rows per class or total, settings)
    ("sst2", 200, {"method": "full"}),
    ("sst2", 800, {"method": "full"}),
    ("sst2", 800, {"method": "lora"}),
    ("trec", "8/class", {}),  # auto picks setfit
    ("banking77", 1500, {"method": "full", "epochs": 3}),
]


def rows_of(dataset: str, size) -> pd.DataFrame:
    pool = pd.read_csv(SHARED / dataset / "train.csv")
    if isinstance(size, str):
        per_class = int(size.split("/")[0])
        return pd.concat(g.sample(n=per_class, random_state=0) for _, g in pool.groupby("label"))
    return pool.sample(n=size, random_state=0)


def burn() -> None:
    while True:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--busy", type=int, default=0, help="busy-looping processes beside the runs")
    args = parser.parse_args()
    from trainer.config import TrainConfig
    from trainer.runs.estimate import duration
    from trainer.service import Service

    work = Path(tempfile.mkdtemp(prefix="bench-estimate-"))
    service = Service(work / "root")
    burners = [multiprocessing.Process(target=burn, daemon=True) for _ in range(args.busy)]
    for process in burners:
        process.start()
    rows = []
    for dataset, size, settings in RUNS:
        path = work / f"{dataset}-{str(size).replace('/', '-')}.csv"
        rows_of(dataset, size)[["text", "label"]].to_csv(path, index=False)
        run = service.prepare("bench", str(path), TrainConfig.from_dict(settings))
        planned = run.status()["estimate"]
        started = time.time()
        subprocess.run([sys.executable, "-m", "trainer", "worker", "--run-dir", str(run.dir)], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        took = time.time() - started
        status = run.status()
        inside = planned["seconds"] * 0.8 <= took <= planned["high_seconds"]
        rows.append({"run": f"{dataset} {size}", "method": status.get("config_resolved", {}).get("method"),
                     "state": status["state"], "estimate": f"{duration(planned['seconds'])} to "
                     f"{duration(planned['high_seconds'])}", "took": duration(took), "took_s": round(took),
                     "within": inside})
        print(json.dumps(rows[-1]), flush=True)
    for process in burners:
        process.terminate()
    print(f"\n{machine()}, {args.busy} busy processes beside the runs\n")
    print("| run | method | estimate before Start | took | within the range |\n|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['run']} | {row['method']} | {row['estimate']} | {row['took']} | {'yes' if row['within'] else 'no'} |")


if __name__ == "__main__":
    main()
