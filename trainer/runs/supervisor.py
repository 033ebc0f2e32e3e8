"""The app's side of training: start worker processes, watch them, cancel them, recover after a restart.

The web server only spawns and signals processes here; it never imports torch for
training and never holds CUDA state.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable

from trainer.hub.hub_auth import SECRET_ENV
from trainer.models import PROJECT_ROOT
from trainer.runs.queue import fair_order, gpu_ids, gpus_needed, max_concurrent_runs, quota_owner
from trainer.jobs.follow import FOLLOWED
from trainer.runs.store import ACTIVE, Run, RunStore, process_start

log = logging.getLogger("classitune")


def worker_alive(status: dict) -> bool:
    """Is the run's worker (``pid`` started at ``pid_start``) still running? A recycled pid is not."""
    started = process_start(status["pid"]) if status.get("pid") else None
    return started is not None and started == status.get("pid_start")


def _worker(command: list[str], gpu: str | None = None, processes: int = 1, **streams) -> subprocess.Popen:
    """A ``python -m trainer ...`` process in its own session (it outlives the app), without the app's secrets,
    seeing only its own GPU(s) when given some; ``processes`` > 1: ``accelerate launch`` runs that many, one per
    GPU (data-parallel)."""
    env = {k: v for k, v in os.environ.items() if k not in SECRET_ENV}
    env["CLASSITUNE_MAX_CONCURRENT_RUNS"] = str(max_concurrent_runs())  # the slots as the app counts them
    if gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = gpu
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    launcher = [] if processes == 1 else [
        "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(processes), "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no"]  # precision is the run's own choice (hardware.py)
    return subprocess.Popen([sys.executable, *launcher, "-m", "trainer", *command], cwd=PROJECT_ROOT, env=env,
                            start_new_session=True, **streams)


def _signal(pid: int, sig: int) -> None:
    """A worker leads its own session (``start_new_session``): signal its whole group, so the processes of a
    data-parallel run (``accelerate launch`` and one per GPU) stop together; anything else, the one process."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
            return
    except ProcessLookupError:
        return
    os.kill(pid, sig)


class Supervisor:
    """Starts and watches training workers for one data root.

    A run waits as a directory until a training slot is free (queue.py); only then is its worker started, the
    next run chosen fairly between users. With ``standby=True`` it also keeps one standby worker
    (``python -m trainer standby``) ready
    while nothing trains, so Start skips Python's start-up and the training imports. With
    ``gpu_slot`` (ZeroGPU Spaces, where the GPU exists only inside ``spaces.GPU`` calls) runs are
    handed to that function instead of a worker process.
    """

    def __init__(self, store: RunStore, poll_seconds: float = 1.0, standby: bool = False,
                 gpu_slot: Callable[[Run, bool], None] | None = None):
        self.store = store
        self.poll_seconds = poll_seconds
        self.standby = standby and gpu_slot is None
        self.gpu_slot = gpu_slot
        self._standby: subprocess.Popen | None = None
        self._procs: dict[str, subprocess.Popen] = {}
        self._cancelling: set[str] = set()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="run-supervisor", daemon=True)
        self._thread.start()
        Supervisor.opened.add(self)

    opened: "weakref.WeakSet[Supervisor]" = weakref.WeakSet()  # so tests can close every one they started

    def close(self) -> None:
        """Stop watching and end the standby worker; workers still training go on and a later app recovers them."""
        self._closed.set()
        self._thread.join(timeout=10)
        with self._lock:
            standby, self._standby = self._standby, None
        if standby is not None and standby.poll() is None:
            standby.stdin.close()  # end of input: the standby worker exits
            standby.wait(timeout=10)

    def start(self, run: Run, resume: bool = False) -> None:
        """Queue the run; it starts at once if a slot is free and its turn has come, else when it has."""
        if self.gpu_slot is not None:
            self.gpu_slot(run, resume)
            return
        if resume:
            self.store.set_state(run, "queued", error=None, resume=True, pid=None, pid_start=None)
        run.update_status(submitted=True)  # a run only prepared (tests, a worker started by hand) is not ours to start
        self.dispatch()

    @contextlib.contextmanager
    def _dispatch_lock(self):
        """One dispatch, or cancel of a waiting run, at a time per data root: a file lock, so that two app
        processes (or two services in one) never start the same run twice."""
        with open(self.store.state / "dispatch.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def dispatch(self) -> None:
        """Start workers for waiting runs while slots are free, in fair order; number the runs still waiting."""
        with self._dispatch_lock():
            with self._lock:
                watched = set(self._procs)
            with_worker, waiting, busy_gpus, used = [], [], set(), 0
            for row in self.store.list():
                if row["state"] not in ACTIVE:
                    continue
                run = Run(self.store.runs_dir / row["id"])
                status = run.status()
                if row["id"] in watched or worker_alive(status):
                    with_worker.append(row)
                    busy_gpus.update((status.get("gpu") or "").split(","))
                    used += self._slots(run)
                elif status.get("state") == "queued" and status.get("submitted") and not status.get("pid"):
                    waiting.append(row)  # a running run without a worker is recover()'s to report
            free, waits = max_concurrent_runs() - used, 0
            for row in fair_order(waiting, Counter(quota_owner(r["owner"] or "") for r in with_worker)):
                run = Run(self.store.runs_dir / row["id"])
                need = self._slots(run)
                if need <= free:  # a run needing more GPUs than are free does not keep a smaller one off a free GPU
                    gpus = [g for g in gpu_ids() if g not in busy_gpus][:need]
                    busy_gpus.update(gpus)
                    free -= need
                    self._launch(run, bool(run.status().get("resume")), gpus)
                    continue
                if run.status().get("queue_position") != waits:
                    run.update_status(queue_position=waits)
                waits += 1

    @staticmethod
    def _slots(run: Run) -> int:
        try:
            return gpus_needed(run.config())
        except (OSError, ValueError):
            return 1

    def _launch(self, run: Run, resume: bool, gpus: list[str]) -> None:
        """The standby worker if one is ready (the pid is written before the hand-over, so the run is never
        seen training without one), else a new worker process (a data-parallel run: ``accelerate launch``, one
        process per GPU; its pid is the launcher's); ``gpus``: the GPUs it may use (none on a CPU machine)."""
        gpu = ",".join(gpus) or None
        run.update_status(queue_position=0, gpu=gpu)
        processes = max(1, self._slots(run))
        proc = self._hand_over(run, resume, gpu) if processes == 1 else None
        if proc is None:
            command = ["worker", "--run-dir", str(run.dir)] + (["--resume"] if resume else [])
            with open(run.path("train.log"), "a") as output:
                proc = _worker(command, gpu=gpu, processes=processes, stdout=output, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
            run.update_status(pid=proc.pid, pid_start=process_start(proc.pid))
        with self._lock:
            self._procs[run.id] = proc

    def _hand_over(self, run: Run, resume: bool, gpu: str | None) -> subprocess.Popen | None:
        with self._lock:
            proc, self._standby = self._standby, None
        if proc is None or proc.poll() is not None:
            return None
        run.update_status(pid=proc.pid, pid_start=process_start(proc.pid))
        try:
            proc.stdin.write(json.dumps({"run_dir": str(run.dir), "resume": resume, "gpu": gpu}) + "\n")
            proc.stdin.close()
        except OSError:  # it died meanwhile
            run.update_status(pid=None, pid_start=None)
            return None
        return proc

    def _keep_standby(self) -> None:
        """Start a standby worker if none is ready and nothing trains (its imports would slow a run down)."""
        with self._lock:
            standby = self._standby
            if not self.standby or self._procs or (standby is not None and standby.poll() is None):
                return
        if standby is not None and standby.returncode != 0:
            self.standby = False  # workers start from scratch instead
            log.warning("standby worker exited with code %s (see %s); not starting another",
                        standby.returncode, self.store.root / "standby.log")
            return
        if any(row["state"] in ACTIVE for row in self.store.list()):
            return
        with open(self.store.root / "standby.log", "w") as output:
            proc = _worker(["standby"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=output, text=True)
        with self._lock:
            self._standby = proc

    def cancel(self, run: Run, grace_seconds: float = 8.0) -> dict:
        """Ask the worker to stop (SIGTERM); kill it if it has not stopped within the grace period."""
        with self._dispatch_lock():  # a waiting run is not started while it is being cancelled
            status = run.status()
            if status.get("state") not in ACTIVE:
                return status
            if status.get("state") == "queued" and not status.get("pid"):
                return self.store.set_state(run, "cancelled", error="Cancelled by the user before it started.")
        with self._lock:
            self._cancelling.add(run.id)  # its death is this cancel's doing, not a crash for the watcher to report
        try:
            if worker_alive(status) and status["pid"] != os.getpid():  # never signal the app itself
                _signal(status["pid"], signal.SIGTERM)
                deadline = time.time() + grace_seconds
                while time.time() < deadline and worker_alive(status):  # it records "cancelled" and exits
                    time.sleep(0.1)
                if worker_alive(status):
                    _signal(status["pid"], signal.SIGKILL)
            if run.status().get("state") in ACTIVE:
                self.store.set_state(run, "cancelled", error="Cancelled by the user; metrics up to that point are kept.")
        finally:
            with self._lock:
                self._cancelling.discard(run.id)
        return run.status()

    def _watch(self) -> None:
        ticks = 0
        while not self._closed.wait(self.poll_seconds):
            ticks += 1
            try:
                self._tick(ticks)
            except Exception:  # a locked registry or a full disk must not stop the watching for good
                log.exception("run supervisor: tick failed; retrying")

    def _tick(self, ticks: int) -> None:
        if ticks % 5 == 1:
            self.recover()
            self._keep_standby()
        with self._lock:
            finished = [(rid, p) for rid, p in self._procs.items() if p.poll() is not None]
            for rid, _ in finished:
                del self._procs[rid]
        for run_id, proc in finished:
            self._mark_dead(Run(self.store.runs_dir / run_id), proc.returncode)
        self.dispatch()

    def _mark_dead(self, run: Run, returncode: int) -> None:
        with self._lock:
            if run.id in self._cancelling:
                return
        if run.status().get("state") not in ACTIVE:
            return
        if returncode < 0:
            try:
                name = signal.Signals(-returncode).name
            except ValueError:  # real-time signals have no name
                name = f"signal {-returncode}"
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
            watched = set(self._procs) | self._cancelling
        for row in self.store.list():
            if row["state"] not in ACTIVE or row["id"] in watched:
                continue
            run = Run(self.store.runs_dir / row["id"])
            status = run.status()
            if status.get("state") not in ACTIVE:  # the run directory is the truth: the worker finished, and died
                self.store.index(run)               # before the registry heard of it
                continue
            if status.get("job"):  # trains on Hugging Face Jobs: its follower reports it, if this process has one
                if run.id not in FOLLOWED:
                    self.store.set_state(run, "interrupted", error=(
                        f"The app restarted while this run trained on Hugging Face Jobs, and cannot follow it further. "
                        f"It goes on there ({status['job']['url']}); its model lands in your repo "
                        f"{status['job']['model_repo']}."))
                continue
            if status.get("state") == "queued" and not worker_alive(status) and self.gpu_slot is None:
                if status.get("pid"):  # its worker died before training (an app restart): it waits its turn again
                    run.update_status(pid=None, pid_start=None)
                continue
            if not worker_alive(status) and (status.get("state") != "queued" or status.get("pid")):
                # (a ZeroGPU run is queued under the app's pid until its slot starts: nothing else will start it)
                self.store.set_state(run, "interrupted", error="The run stopped before it finished (the app restarted, or its "
                                     "GPU slot ended). Resume it to continue from its last checkpoint.")
                recovered.append(run.id)
        return recovered
