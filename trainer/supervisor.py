"""The app's side of training: start worker processes, watch them, cancel them, recover after a restart.

The web server only spawns and signals processes here; it never imports torch for
training and never holds CUDA state.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from .models import PROJECT_ROOT
from .runs import ACTIVE, Run, RunStore

SECRET_ENV = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_API_TOKEN")
STARTUP_GRACE_SECONDS = 60


def pid_runs(pid: int | None, run: Run) -> bool:
    """Is ``pid`` alive and still the worker of this run (not a recycled pid)?"""
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return run.id.encode() in cmdline


class Supervisor:
    """Starts and watches training workers for one data root."""

    def __init__(self, store: RunStore, poll_seconds: float = 1.0):
        self.store = store
        self.poll_seconds = poll_seconds
        self._procs: dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="run-supervisor", daemon=True)
        self._thread.start()

    def start(self, run: Run, resume: bool = False) -> None:
        """Launch the worker; it queues itself and trains when a slot is free."""
        env = {k: v for k, v in os.environ.items() if k not in SECRET_ENV}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
        command = [sys.executable, "-m", "trainer", "worker", "--run-dir", str(run.dir)] + (["--resume"] if resume else [])
        with open(run.path("train.log"), "a") as log:
            proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    cwd=PROJECT_ROOT, env=env, start_new_session=True)
        if resume:
            self.store.set_state(run, "queued", error=None)
        run.update_status(pid=proc.pid)
        with self._lock:
            self._procs[run.id] = proc

    def cancel(self, run: Run, grace_seconds: float = 4.0) -> dict:
        """Ask the worker to stop (SIGTERM); kill it if it has not stopped within the grace period."""
        status = run.status()
        if status.get("state") not in ACTIVE:
            return status
        pid = status.get("pid")
        if pid_runs(pid, run):
            os.kill(pid, signal.SIGTERM)
            deadline = time.time() + grace_seconds
            while time.time() < deadline and pid_runs(pid, run) and run.status().get("state") in ACTIVE:
                time.sleep(0.1)
            if pid_runs(pid, run):
                os.kill(pid, signal.SIGKILL)
        if run.status().get("state") in ACTIVE:
            self.store.set_state(run, "cancelled", error="Cancelled by the user; metrics up to that point are kept.")
        return run.status()

    def _watch(self) -> None:
        ticks = 0
        while True:
            time.sleep(self.poll_seconds)
            ticks += 1
            if ticks % 5 == 0:
                self.recover()
            with self._lock:
                finished = [(rid, p) for rid, p in self._procs.items() if p.poll() is not None]
                for rid, _ in finished:
                    del self._procs[rid]
            for run_id, proc in finished:
                self._mark_dead(Run(self.store.runs_dir / run_id), proc.returncode)

    def _mark_dead(self, run: Run, returncode: int) -> None:
        if run.status().get("state") not in ACTIVE:
            return
        if returncode < 0:
            name = signal.Signals(-returncode).name
            why = (f"The training worker was killed ({name}), e.g. by the system running out of memory or by hand. "
                   f"Try a smaller batch size, or start the run again.")
        else:
            why = f"The training worker stopped unexpectedly (exit code {returncode}). See train.log in the run."
        self.store.set_state(run, "failed", error=why)

    def recover(self) -> list[str]:
        """Runs left active by a worker that is gone (an app restart) become ``interrupted``, resumable.

        Called at start-up and every few seconds, so a worker that outlived an app restart is still
        watched by the next app process.
        """
        recovered = []
        with self._lock:
            watched = set(self._procs)
        for row in self.store.list():
            if row["state"] not in ACTIVE or row["id"] in watched:
                continue
            run = Run(self.store.runs_dir / row["id"])
            status = run.status()
            if not status.get("pid") and time.time() - (status.get("created") or 0) < STARTUP_GRACE_SECONDS:
                continue  # just created, its worker is being launched
            if not pid_runs(status.get("pid"), run):
                self.store.set_state(run, "interrupted", error="The app restarted while this run was in progress. "
                                     "Resume it to continue from its last checkpoint.")
                recovered.append(run.id)
        return recovered
