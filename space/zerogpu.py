"""ZeroGPU Spaces: there the GPU exists only inside ``@spaces.GPU`` calls, so each run trains in one.

On ZeroGPU hardware (``SPACES_ZERO_GPU=true``) Start prepares the run as everywhere else, then
asks ZeroGPU, from the request that pressed Start, for a GPU slot as long as the run's estimate;
the run trains in ZeroGPU's own forked process and writes its run directory as a worker would,
so progress, metrics, Predict and Publish work unchanged. A run whose estimate is over the
slot limit is refused before it starts, with what to change. ``spaces.GPU`` does nothing off
ZeroGPU, and the app then uses its worker processes instead.
"""

from __future__ import annotations

import contextvars
import os
import threading
from pathlib import Path

from trainer.errors import UserError
from trainer.runs.store import Run, RunStore, this_process
from trainer.runs.worker import estimate_gpu_seconds, train_prepared


def on_zerogpu() -> bool:
    return os.environ.get("SPACES_ZERO_GPU", "").lower() in ("1", "true")


def slot_limit_seconds() -> int:
    """The longest slot to ask for (``CLASSITUNE_ZEROGPU_MAX_SECONDS``; ZeroGPU's own cap depends on the account)."""
    return int(os.environ.get("CLASSITUNE_ZEROGPU_MAX_SECONDS", "300"))


def _duration(run_dir: str, resume: bool, seconds: int) -> int:
    return seconds  # ZeroGPU calls this with the GPU function's own arguments


def _train(run_dir: str, resume: bool, seconds: int) -> None:
    """The GPU function; ``seconds`` (the run's estimate) is there for ``_duration`` to size the slot."""
    run = Run(Path(run_dir))
    if run.status().get("state") == "cancelled":  # cancelled while waiting for the slot
        return
    try:
        train_prepared(run, RunStore(run.dir.parent.parent), resume)
    except UserError:
        pass  # already recorded in the run's status, which the UI shows


def _in_slot(train, run: Run, resume: bool, needed: int) -> None:
    """Ask for the slot and train in it; a slot that is refused (quota used up, none free) fails the run with
    ZeroGPU's reason, instead of leaving it queued for ever and counted against its owner."""
    try:
        train(str(run.dir), resume, needed)
    except Exception as exc:  # noqa: BLE001 - whatever ZeroGPU raised, the user reads it in the run's status
        if run.status().get("state") in ("queued", "running"):
            RunStore(run.dir.parent.parent).set_state(
                run, "failed", error=f"ZeroGPU gave no GPU slot for this run ({type(exc).__name__}: "
                                     f"{str(exc)[:300]}). Your GPU quota may be used up: try again later, or "
                                     f"train on other hardware.")


def gpu_slot_launcher():
    """The ``gpu_slot`` for ``Service``: call it while the app is built, since ZeroGPU registers GPU functions then."""
    import spaces

    train = spaces.GPU(duration=_duration)(_train)

    def launch(run: Run, resume: bool) -> None:
        needed = estimate_gpu_seconds(run)
        if needed > slot_limit_seconds():
            message = (f"This run needs about {needed} s of GPU time, over the {slot_limit_seconds()} s a ZeroGPU slot "
                       f"gives here. Train fewer epochs or rows, or run the app on dedicated hardware.")
            RunStore(run.dir.parent.parent).set_state(run, "failed", error=message)
            raise UserError(message)
        run.update_status(**this_process())  # the app holds the run until the slot's process takes it over
        # The request's context goes with the thread: ZeroGPU reads the visitor's quota from it.
        threading.Thread(target=contextvars.copy_context().run, args=(_in_slot, train, run, resume, needed),
                         name=f"zerogpu-{run.id}", daemon=True).start()

    return launch
