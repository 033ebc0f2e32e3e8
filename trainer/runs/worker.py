"""The training worker process: waits its turn, then trains one run from its run directory.

Started by the app as ``python -m trainer worker --run-dir DIR`` in its own session, so
a crash, an out-of-memory kill or a closed browser tab never touches the web server,
and a run keeps going while nobody watches. SIGTERM means "cancel".
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from pathlib import Path

import pandas as pd

from trainer.training import cancel
from trainer.config import TrainConfig
from trainer.runs.queue import max_concurrent_runs
from trainer.training.run_progress import is_main_process, world_size
from trainer.runs.store import Run, RunStore, this_process
from trainer.training.cancel import RunCancelled
from trainer.training.train import run_training


def wait_for_slot(store: RunStore, poll: float = 0.5):
    """Block until a slot lock is free; return the held lock file. The app starts a worker only when its run's
    turn has come (queue.py); the lock keeps a worker started by hand, or by an app that restarted while a run
    trained, from training beside it. Slots are ``flock`` locks: a dead worker's slot frees itself."""
    folder = store.state / "slots"
    folder.mkdir(exist_ok=True)
    while True:
        for index in range(max_concurrent_runs()):
            handle = open(folder / f"slot-{index}.lock", "w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return handle
            except BlockingIOError:
                handle.close()
        cancel.check()
        time.sleep(poll)


def train_prepared(run: Run, store: RunStore, resume: bool = False) -> dict:
    """Train a run directory written by ``Service.prepare`` (its config, labels and data splits)."""
    data = run.path("data")
    test = pd.read_parquet(data / "test.parquet") if (data / "test.parquet").exists() else None
    return run_training(run, TrainConfig.from_dict(run.config()), pd.read_parquet(data / "train.parquet"),
                        pd.read_parquet(data / "validation.parquet"), run.labels(), test=test, store=store,
                        resume=resume, echo=True)


def estimate_gpu_seconds(run: Run) -> int:
    """A generous estimate of a prepared run's GPU time, for a ZeroGPU slot's ``duration``.

    45 s to load and tokenize, plus every sample of every epoch and each evaluation at a
    cautious 200 samples/s for the 22.7M-parameter default (the stock bf16 ``Trainer`` does
    473/s on an H100), slower in proportion for larger models (weights read from the model's
    safetensors files when local, else assumed BERT-base sized).
    """
    import pyarrow.parquet as pq

    from trainer.runs.hardware import Hardware
    from trainer.models import resolve_model
    from trainer.training.schedule import plan

    config = TrainConfig.from_dict(run.config())
    rows = {name: pq.ParquetFile(run.path("data") / f"{name}.parquet").metadata.num_rows
            for name in ("train", "validation")}
    schedule = plan(config, rows["train"], Hardware("cuda", "GPU", 40.0, 1, True, 1))
    evaluations = schedule.total_steps / schedule.eval_steps
    texts_per_sample = 2 if config.method == "setfit" else 1  # a setfit step's samples are pairs of texts
    samples = schedule.total_steps * schedule.batch_size * texts_per_sample + rows["validation"] * evaluations
    model = Path(resolve_model(config.model))
    weights = sum(f.stat().st_size for f in model.glob("*.safetensors")) if model.is_dir() else 0
    weights = 0 if config.model == "auto" else weights  # auto may choose a base-size body
    scale = max(1.0, (weights or 440e6) / 91e6)  # the default's model.safetensors is 91 MB
    return int(45 + samples * scale / 200)


def main(run_dir: Path, resume: bool = False) -> int:
    run = Run(Path(run_dir).resolve())
    store = RunStore(run.dir.parent.parent)
    try:
        cancel.on_sigterm()
        if run.status().get("state") == "cancelled":  # cancelled before this process could take a signal
            return 130
        if world_size() == 1:  # under accelerate launch the run's pid stays the launcher's, which the app signals
            store.set_state(run, "queued", **this_process(), queue_position=0)
        slot = wait_for_slot(store)  # each process of a data-parallel run holds one slot
        train_prepared(run, store, resume)
        slot.close()
    except RunCancelled:
        if is_main_process() and run.status().get("state") in ("queued", "running"):
            store.set_state(run, "cancelled", error="Cancelled by the user; metrics up to that point are kept.")
        return 130
    return 0


def standby() -> int:
    """Import the training stack, then wait for the app to hand over a run on stdin (one JSON line).

    Starting Python and importing torch, transformers, peft and datasets is most of the time
    from Start to the first training step on a small CPU (about 10 s of it on 2 cores). The app
    keeps one standby worker ready while nothing trains, and Start hands the run to it. End of
    input (the app is gone) ends it. From the hand-over on it is an ordinary worker.
    """
    import datasets  # noqa: F401
    import peft  # noqa: F401
    import sentence_transformers  # noqa: F401 (the setfit method)
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer  # noqa: F401

    line = sys.stdin.readline()
    if not line.strip():
        return 0
    order = json.loads(line)
    if order.get("gpu") is not None:  # before anything initialises CUDA (the imports above do not)
        os.environ["CUDA_VISIBLE_DEVICES"] = str(order["gpu"])
    run_dir = Path(order["run_dir"])
    log = os.open(run_dir / "train.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log, sys.stdout.fileno())
    os.dup2(log, sys.stderr.fileno())
    return main(run_dir, resume=order["resume"])
