"""How a training process reports: the run's status and registry row (main process only), its metrics events,
its activity lines (activity.py), and the Trainer callback that turns log events into them and watches for
"stop and keep"."""

from __future__ import annotations

import os
import time

import torch

from trainer.training import cancel
from trainer.runs.activity import event_line, phase_line
from trainer.runs.queue import time_cap_reached
from trainer.runs.store import STOP_REQUEST, Run, RunStore
from trainer.tasks.single_label import SingleLabel


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


class Reporter:
    """Writes a run's status (and registry row) from the main process only; prints progress lines."""

    def __init__(self, run: Run, store: RunStore | None, echo: bool):
        self.run, self.store, self.echo = run, store, echo and is_main_process()
        self.main = is_main_process()
        self._last_write = 0.0

    def state(self, state: str, **changes) -> None:
        if not self.main:
            return
        if self.store:
            self.store.set_state(self.run, state, **changes)
        else:
            self.run.update_status(state=state, **changes)

    def phase(self, phase: str) -> None:
        cancel.check()  # a phase boundary is a safe point to stop a cancelled run
        if self.main:
            self.run.update_status(phase=phase)
        self.say(phase_line(phase))

    def progress(self, progress: dict, force: bool = False) -> None:
        now = time.time()
        if self.main and (force or now - self._last_write >= 1.0):
            self._last_write = now
            self.run.update_status(progress=progress)

    def event(self, event: dict) -> None:
        if self.main:
            self.run.append_metrics(event)
        self.say(event_line(event))

    def say(self, line: str) -> None:
        if self.main:
            self.run.append_activity(line)
        if self.echo:
            print(line, flush=True)


def make_callback(reporter: Reporter, batch: int, started: float,
                   eval_keys: tuple[str, ...] = SingleLabel.eval_keys):
    from transformers import TrainerCallback

    class RunCallback(TrainerCallback):
        """Turns the Trainer's log events into metrics.jsonl lines and live progress.

        Speed and ETA count only the steps this process trained since ``on_train_begin``: a resumed run starts at
        its checkpoint's step, and dividing all steps by this process's time would inflate both.
        """

        first_step, begun, before = 0, started, 0.0

        def on_train_begin(self, args, state, control, **kwargs):
            self.first_step, self.begun = state.global_step, time.time()
            if state.global_step:  # resumed: the time trained before the checkpoint, from the events kept
                self.before = next((e["train_s"] for e in reversed(reporter.run.metrics()) if "train_s" in e), 0.0)

        def summary(self, state) -> dict:
            """What the run's card and the next run's estimate read: speed over this process's own steps, and
            training time over every process that trained the run."""
            steps, seconds = self._rate(state)
            return {"train_seconds": round(self.before + seconds, 1),
                    "samples_per_second": round(steps * batch * world_size() / seconds, 1) if steps else 0.0}

        def _rate(self, state) -> tuple[int, float]:
            """(steps trained by this process, seconds it has trained)."""
            return state.global_step - self.first_step, max(time.time() - self.begun, 1e-6)

        def _timing(self, state) -> dict:
            steps, seconds = self._rate(state)
            eta = seconds / steps * (state.max_steps - state.global_step) if steps > 0 else None
            return {"step": state.global_step, "max_steps": state.max_steps, "epoch": round(state.epoch or 0.0, 4),
                    "elapsed_s": round(time.time() - started, 2), "eta_s": None if eta is None else round(eta, 1),
                    "train_s": round(self.before + seconds, 2)}

        def on_step_end(self, args, state, control, **kwargs):
            reporter.progress(self._timing(state))
            _act_on_requests(reporter, started, args.device, control)

        def on_log(self, args, state, control, logs=None, **kwargs):
            timing = self._timing(state)
            steps, seconds = self._rate(state)
            event = _log_event(dict(logs or {}), timing, eval_keys, round(steps * batch * world_size() / seconds, 1))
            reporter.event({k: v for k, v in event.items() if v is not None})
            reporter.progress(timing, force=True)

    return RunCallback()


def _act_on_requests(reporter: Reporter, started: float, device, control) -> None:
    """At a step boundary: the operator's time cap (stop and keep, as if the user had asked), stop and cancel."""
    over = time_cap_reached(started, time.time())
    if over and reporter.main and not reporter.run.path(STOP_REQUEST).exists():
        reporter.say(over)
        reporter.run.update_status(stopped_by_time_cap=True)
        reporter.run.path(STOP_REQUEST).touch()
    asked = stop_requested(reporter.run, device)
    if asked == CANCEL:  # end now, saving and evaluating nothing; the run raises at its next phase
        control.should_training_stop, control.should_evaluate, control.should_save = True, False, False
    elif asked == STOP:  # "stop and keep": evaluate and save this step, then end
        control.should_training_stop = control.should_evaluate = control.should_save = True


def _log_event(logs: dict, timing: dict, eval_keys: tuple[str, ...], samples_per_second: float) -> dict:
    """A Trainer log as a metrics.jsonl event: the run's summary, an evaluation, or a training step."""
    if "train_runtime" in logs:
        return {"type": "summary", **timing, "train_runtime_s": logs.get("train_runtime"),
                "train_loss": logs.get("train_loss"), "samples_per_second": logs.get("train_samples_per_second")}
    if any(k.startswith("eval_") for k in logs):
        return {"type": "eval", **timing, "eval_loss": logs.get("eval_loss"),
                **{key: logs.get(f"eval_{key}") for key in eval_keys}}
    return {"type": "train", **timing, "loss": logs.get("loss"), "learning_rate": logs.get("learning_rate"),
            "grad_norm": logs.get("grad_norm"), "samples_per_second": samples_per_second}


GO_ON, STOP, CANCEL = 0, 1, 2


def stop_requested(run: Run, device) -> int:
    """CANCEL (cancel asked), STOP (stop and keep the best model so far) or GO_ON. Every process stops at the same
    step (rank 0 decides: a process that stopped alone would leave the others waiting in the next all-reduce)."""
    asked = CANCEL if cancel.requested() else STOP if run.path(STOP_REQUEST).exists() else GO_ON
    if world_size() > 1 and torch.distributed.is_initialized():
        flag = torch.tensor([float(asked)], device=device)
        torch.distributed.broadcast(flag, src=0)
        asked = int(flag.item())
        if asked == CANCEL:
            cancel.request()
    return asked
