"""Time from pressing Start to the first progress update the user sees, on the default model.

    python bench/bench_start.py [--repeats 3]

Calls ``Service.start`` (what the Start button calls) on the example dataset and polls the run's
status as the UI does, recording when the run is first shown running (worker up, phase shown),
when it is tokenized, and when the first training step's progress (step, ETA) appears.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from common import ROOT, machine


def one(root: Path) -> dict:
    from trainer.config import TrainConfig
    from trainer.service import Service

    service = Service(root)
    pressed = time.perf_counter()
    run = service.start("bench", str(ROOT / "assets" / "banking77_sample.csv"), TrainConfig(epochs=1))
    marks: dict[str, float] = {"start_returned_s": time.perf_counter() - pressed}
    while "first_step_s" not in marks and time.perf_counter() - pressed < 300:
        status = run.status()
        now = time.perf_counter() - pressed
        if status.get("state") == "running":
            marks.setdefault("shown_running_s", now)
        if status.get("phase") == "training":
            marks.setdefault("training_phase_s", now)
        if (status.get("progress") or {}).get("step"):
            marks["first_step_s"] = now
        time.sleep(0.05)
    service.cancel(run.id, "bench")
    return {k: round(v, 2) for k, v in marks.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    results = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="classitune-start-") as tmp:
            results.append(one(Path(tmp)))
    summary = {key: statistics.median(r[key] for r in results if key in r) for key in results[0]}
    print(json.dumps({"machine": machine(), "runs": results, "median": summary}, indent=1))


if __name__ == "__main__":
    main()
