"""Issue 28: cancel is a flag set by the worker's SIGTERM handler and acted on at safe points (trainer/cancel.py),
never an exception raised from inside a signal handler. Quick tier."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.quick  # the quick tier (README: Tests)

SCRIPT = """
import os, signal, time
from trainer.training import cancel
cancel.on_sigterm()
os.kill(os.getpid(), signal.SIGTERM)
time.sleep(0.2)          # a handler that raised would have ended the program here
print("flag", cancel.requested())
try:
    cancel.check()
except cancel.RunCancelled:
    print("raised at the safe point")
"""


def test_sigterm_sets_the_flag_and_check_raises_at_a_safe_point():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.split("\n")[:2] == ["flag True", "raised at the safe point"], done.stderr


def test_the_training_loop_ends_at_the_step_boundary_without_saving(tmp_path):
    from transformers import TrainerControl, TrainerState, TrainingArguments

    from trainer.training import cancel
    from trainer.training.run_progress import Reporter, make_callback
    from trainer.runs.store import Run

    run = Run(tmp_path / "run")
    run.dir.mkdir()
    args = TrainingArguments(output_dir=str(tmp_path / "out"), use_cpu=True, report_to=[])
    callback = make_callback(Reporter(run, None, False), 16, 0.0)
    control = TrainerControl()
    callback.on_step_end(args, TrainerState(global_step=3, max_steps=10), control)
    assert not control.should_training_stop
    cancel.request()
    try:
        callback.on_step_end(args, TrainerState(global_step=4, max_steps=10), control)
        assert control.should_training_stop and not control.should_save and not control.should_evaluate
        reporter = Reporter(run, None, False)
        try:
            reporter.phase("evaluating")
            raised = False
        except cancel.RunCancelled:
            raised = True
        assert raised and run.status().get("phase") is None  # stopped before the phase wrote anything
    finally:
        cancel.reset()


def test_frozen_passes_stop_between_batches():
    import numpy as np

    from trainer.training import cancel
    from trainer.training.batching import sorted_batches

    seen = []

    def step(index: np.ndarray) -> None:
        seen.append(len(index))
        if len(seen) == 2:
            cancel.request()

    try:
        sorted_batches([f"text {i}" for i in range(10)], 2, step)
        stopped = False
    except cancel.RunCancelled:
        stopped = True
    finally:
        cancel.reset()
    assert stopped and seen == [2, 2]
