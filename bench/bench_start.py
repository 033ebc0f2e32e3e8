"""Time from pressing Start to the first progress update the user sees, on the default model.

    python bench/bench_start.py [--repeats 3]

Calls ``Service.start`` (what the Start button calls) on the example dataset and polls the run's
status as the UI does, recording when the run is first shown running (worker up, phase shown),
when it is tokenized, and when the first training step's progress (step, ETA) appears.
Two ways, back to back: a fresh worker process per run (the stock way: LLaMA-Factory's board
and the app before the standby worker), and the app's standby worker, started while the app
sits idle (the bench waits ``--idle`` seconds after start-up before pressing Start, as a user
uploading and mapping a dataset would).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from common import ROOT, machine


def one(root: Path, standby: bool, idle: float) -> dict:
    from trainer.config import TrainConfig
    from trainer.service import Service

    service = Service(root, standby=standby)
    time.sleep(idle)
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
    parser.add_argument("--idle", type=float, default=25.0, help="seconds the app sits idle before Start")
    args = parser.parse_args()
    results: dict[str, list[dict]] = {"fresh_worker": [], "standby_worker": []}
    with tempfile.TemporaryDirectory(prefix="classitune-start-") as tmp:  # kept to the end: services stay alive
        for repeat in range(args.repeats):
            for name, standby in (("fresh_worker", False), ("standby_worker", True)):
                results[name].append(one(Path(tmp) / f"{name}-{repeat}", standby, args.idle))
    medians = {name: {key: statistics.median(r[key] for r in runs if key in r) for key in runs[0]}
               for name, runs in results.items()}
    ratio = medians["fresh_worker"]["first_step_s"] / medians["standby_worker"]["first_step_s"]
    print(json.dumps({"machine": machine(), "runs": results, "median": medians,
                      "first_step_ratio_fresh_over_standby": round(ratio, 2)}, indent=1))


if __name__ == "__main__":
    main()
