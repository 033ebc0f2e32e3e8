"""Cancel is a flag: the worker's SIGTERM handler only sets it, and the run acts on it at a safe point.

Raising from a signal handler (as this project once did) can land in the middle of a ``torch.save``, a
status write or an SQLite commit. Here the handler records the request; the training loop ends at the next
step boundary (run_progress.py), and ``check()`` raises ``RunCancelled`` at phase boundaries, between the
batches of the frozen passes and while waiting for a slot: places where nothing is being written.
(LLaMA-Factory's web UI aborts its trainer the same way.)
"""

from __future__ import annotations

import signal
import threading

_requested = threading.Event()


class RunCancelled(BaseException):
    """Stops a run at a safe point; a BaseException, so no ``except Exception`` hides it."""


def request(*_signal_args) -> None:
    """Ask the run to stop (the SIGTERM handler; also callable directly)."""
    _requested.set()


def requested() -> bool:
    return _requested.is_set()


def check() -> None:
    """Raise ``RunCancelled`` if a cancel was asked for; call only where nothing is half-written."""
    if _requested.is_set():
        raise RunCancelled()


def on_sigterm() -> None:
    """The app cancels a worker with SIGTERM: from now on that only sets the flag."""
    signal.signal(signal.SIGTERM, request)


def reset() -> None:
    """For a process that trains several runs one after another (tests, ZeroGPU's slot function)."""
    _requested.clear()
