"""The app's side of batch prediction jobs: start, follow, cancel, fetch; workers started in turn and resumed.

A job waits as a folder until a worker slot is free (``CLASSITUNE_BATCH_WORKERS``, default 1),
oldest first; each user (their share, as for training: anonymous visitors together are one)
has at most one job queued or running, so users take turns. A watcher thread starts queued
jobs and finds workers that died: a job whose worker is gone without finishing (an app
restart, a killed process) is queued again and resumes from its last chunk, up to
``MAX_ATTEMPTS`` times. Jobs live under the owner's hashed folder, so another user's job id is
"not found", like a run's. A finished job's folder is deleted ``CLASSITUNE_BATCH_KEEP_HOURS`` after it ended.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from trainer.batch.spec import (ACTIVE, CANCELLED, FAILED, QUEUED, RUNNING, BatchJob, BatchSpec, BatchStatus, batch_limits,
                                check_input_name)
from trainer.batch import on_jobs
from trainer.batch.work import TOKEN_ENV
from trainer.errors import UserError
from trainer.jobs.flavors import HERE
from trainer.runs.queue import quota_owner
from trainer.runs.store import new_run_id
from trainer.runs.supervisor import PROJECT_ROOT, worker_alive

MAX_ATTEMPTS = 3
PUBLIC_STATUS = ("state", "rows_total", "rows_done", "rows_per_second", "eta_seconds", "error", "output",
                 "resumed_chunks", "attempts")


def keep_seconds() -> float:
    """How long a finished job's folder (its input copy, parts and output) is kept: ``CLASSITUNE_BATCH_KEEP_HOURS``
    (default 24), so a user can come back for the file, and the disk does not fill with old ones."""
    return float(os.environ.get("CLASSITUNE_BATCH_KEEP_HOURS", "24")) * 3600


def max_workers() -> int:
    return max(1, int(os.environ.get("CLASSITUNE_BATCH_WORKERS", "1")))


class BatchJobs:
    """Batch prediction jobs under ``root`` (the data root's ``batch/``)."""

    opened: list["BatchJobs"] = []  # for tests, which stop every watcher they started

    def __init__(self, root: Path, locks: Path | None = None, poll_seconds: float = 1.0):
        BatchJobs.opened.append(self)
        self.root, self.locks = Path(root), Path(locks or root)  # locks on local disk (runs/state_root.py)
        self.root.mkdir(parents=True, exist_ok=True)
        self.locks.mkdir(parents=True, exist_ok=True)
        self._tokens: dict[str, str] = {}  # job id -> Hub dataset reader token, until its worker has it
        self._stop = threading.Event()
        self.tick()  # jobs left running by a previous app process resume now
        self._thread = threading.Thread(target=self._watch, args=(poll_seconds,), daemon=True, name="batch-jobs")
        self._thread.start()

    def close(self) -> None:
        self._stop.set()

    def _owner_dir(self, owner: str) -> Path:
        return self.root / hashlib.sha256(owner.encode()).hexdigest()[:24]

    @contextlib.contextmanager
    def _lock(self, name: str):
        with open(self.locks / f".{name}.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def _all(self) -> list[BatchJob]:
        jobs = [BatchJob(p.parent) for p in self.root.glob("*/*/spec.json")]
        return sorted(jobs, key=lambda job: job.id)  # ids start with the time: oldest first

    def start(self, owner: str, spec: BatchSpec, source: Path | None = None, token: str | None = None) -> BatchJob:
        """Queue a job (a file at ``source``, or ``spec.hub_dataset`` read with ``token``); refuse a second active
        job in the caller's share, and an input over the bounds, before anything is copied."""
        if source is not None:
            check_input_name(spec.input_name)
            size, limit = source.stat().st_size, batch_limits().max_bytes
            if size > limit:
                raise UserError(f"{spec.input_name!r} is {size / 2**20:,.0f} MB, over the {limit / 2**20:,.0f} MB bound "
                                f"of a batch job (CLASSITUNE_BATCH_MAX_MB); split it.")
        share = quota_owner(owner)
        with self._lock("share-" + hashlib.sha256(share.encode()).hexdigest()[:24]):
            mine = [job for job, status in ((j, j.status()) for j in self._all())
                    if status.get("state") in ACTIVE and quota_owner(status.get("owner", "")) == share]
            if mine:
                raise UserError(f"Batch job {mine[0].id} is still {mine[0].status()['state']}: one batch job per user "
                                f"at a time. Wait for it, or cancel it.")
            job = BatchJob(self._owner_dir(owner) / new_run_id())
            job.dir.mkdir(parents=True)
            job.write_spec(spec)
            if source is not None:  # streamed, never held in memory
                shutil.copyfile(source, job.input_path)
            job.update(state=QUEUED, owner=owner, attempts=0, **({"remote": {"flavor": spec.where}}
                                                                  if spec.where != HERE else {}))
        if spec.where != HERE:  # on the user's account and hardware: no worker slot here
            from trainer.batch.on_jobs import submit

            submit(job, token)
            return job
        if token:
            self._tokens[job.id] = token
        self.tick()
        return job

    def job(self, job_id: str, owner: str) -> BatchJob:
        job = BatchJob(self._owner_dir(owner) / str(job_id)[:64])
        if "/" in str(job_id) or not job.path("spec.json").exists():
            raise UserError(f"No batch job {str(job_id)[:64]!r} of yours was found.")
        return job

    def status(self, job_id: str, owner: str) -> BatchStatus:
        job = self.job(job_id, owner)
        status, spec = job.status(), job.spec()
        public = {k: status.get(k) for k in PUBLIC_STATUS}
        return BatchStatus(job_id=job.id, model=spec.model, where=spec.where,
                           job_url=(status.get("remote") or {}).get("url"),
                           input=spec.input_name or f"{spec.hub_dataset} ({spec.split})",
                           **{**public, "state": public["state"] or QUEUED, "rows_done": public["rows_done"] or 0})

    def list(self, owner: str) -> list[BatchStatus]:
        folder = self._owner_dir(owner)
        return [self.status(p.parent.name, owner) for p in sorted(folder.glob("*/spec.json"), reverse=True)]

    def result(self, job_id: str, owner: str) -> Path:
        job = self.job(job_id, owner)
        if job.status().get("state") != "succeeded":
            raise UserError(f"Batch job {job.id} is {job.status().get('state')}; its file is ready when it succeeds.")
        return job.output_path

    def push(self, job_id: str, owner: str, repo_id: str, token: str | None, private: bool = True) -> dict:
        """The finished job's file as a (private) Hub dataset, with the caller's own token (publish.py)."""
        from trainer.batch.publish import push_result

        return push_result(self.job(job_id, owner), repo_id, token, private)

    def cancel(self, job_id: str, owner: str) -> BatchStatus:
        job = self.job(job_id, owner)
        if job.status().get("remote") and job.status().get("state") in ACTIVE:
            if job.id not in on_jobs.FOLLOWED:
                raise UserError("The job is still being handed to Hugging Face Jobs: cancel it in a few seconds.")
            on_jobs.FOLLOWED[job.id].cancel()
            job.update(state=CANCELLED)
        elif job.status().get("state") in ACTIVE:
            job.path("cancel").touch()
            status = job.status()
            if worker_alive(status):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(status["pid"], signal.SIGTERM)
            job.update(state=CANCELLED)
        return self.status(job_id, owner)

    def tick(self) -> None:
        """Requeue jobs whose worker died unfinished, then start queued jobs while a slot is free."""
        with self._lock("dispatch"):
            states = {}  # each job's status read once per tick: the watcher runs every second
            for job in self._all():
                status = job.status()
                if status.get("state") not in ACTIVE and self._expired(job):
                    shutil.rmtree(job.dir, ignore_errors=True)
                    continue
                if status.get("remote"):  # on Hugging Face Jobs: its follower keeps the status
                    if status.get("state") in ACTIVE and not on_jobs.followed(job.id):
                        job.update(state=FAILED, error=on_jobs.unfollowed_message(job))
                    continue
                if status.get("state") == RUNNING and not worker_alive(status):
                    attempts = int(status.get("attempts") or 0)
                    status = job.update(state=QUEUED if attempts < MAX_ATTEMPTS else FAILED, pid=None,
                                        error=None if attempts < MAX_ATTEMPTS else
                                        f"The job's worker stopped {attempts} times without finishing (out of memory?).")
                states[job] = status.get("state")
            running = sum(state == RUNNING for state in states.values())
            for job, state in states.items():
                if running >= max_workers():
                    break
                if state == QUEUED:
                    self._launch(job)
                    running += 1

    @staticmethod
    def _expired(job: BatchJob) -> bool:
        with contextlib.suppress(OSError):  # its last status update is when it ended
            return time.time() - job.path("status.json").stat().st_mtime > keep_seconds()
        return False

    def _launch(self, job: BatchJob) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
        token = self._tokens.pop(job.id, None)
        if token:
            env[TOKEN_ENV] = token
        with open(job.path("worker.log"), "ab") as log:
            process = subprocess.Popen([sys.executable, "-m", "trainer", "batch-predict", "--job", str(job.dir)],
                                       cwd=PROJECT_ROOT, env=env, start_new_session=True, stdout=log, stderr=log)
        from trainer.runs.store import process_start

        job.update(state=RUNNING, pid=process.pid, pid_start=process_start(process.pid),
                   attempts=int(job.status().get("attempts") or 0) + 1)
        threading.Thread(target=process.wait, daemon=True).start()  # reaped, so it does not linger as a zombie

    def _watch(self, poll_seconds: float) -> None:
        while not self._stop.wait(poll_seconds):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - the watcher must outlive one bad folder
                continue
