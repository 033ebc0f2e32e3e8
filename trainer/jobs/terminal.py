"""``python -m trainer train --where FLAVOR``: a run on Hugging Face Jobs started and followed from a terminal."""

from __future__ import annotations

import os
import time

from trainer.jobs.follow import FOLLOWED
from trainer.service import Service


def train_on_jobs_here(data: str, validation: str | None, config) -> int:
    """``python -m trainer train --where FLAVOR``: a run on Hugging Face Jobs on the account of ``HF_TOKEN``,
    followed in the terminal until it ends."""
    run = Service().start("cli", data, config, validation, token=os.environ.get("HF_TOKEN"))
    print(f"run directory: {run.dir}\njob: {run.status()['job']['url']}", flush=True)
    shown = 0
    while True:
        ended = run.id not in FOLLOWED
        lines = run.activity(100_000)
        for line in lines[shown:]:
            print(line, flush=True)
        shown = len(lines)
        if ended:
            break
        time.sleep(2)
    status = run.status()
    print(f"{status['state']}: {status.get('error') or 'model in ' + status['job']['model_repo']}", flush=True)
    return 0 if status["state"] == "succeeded" else 1
