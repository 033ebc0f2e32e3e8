"""The trainer API the Space (and any other front end) calls: validate, start, watch, cancel, list, predict.

Data flows one way: the UI calls these functions, they write run directories, the UI
reads the run directories back. Ownership is checked here, not in the UI: every call
that names a run also names the caller, and a run that is not the caller's is
reported exactly like one that does not exist (so ids cannot be probed either).
"""

from __future__ import annotations

import contextlib
import json
import fcntl
import hashlib
import os
import re
import subprocess
import sys
from functools import cached_property
from pathlib import Path

from trainer.training.choice import BASELINE, TUNED, check_choice, chosen_model
from trainer.runs.activity import state_line
from trainer.config import TrainConfig
from trainer.jobs.flavors import FLAVORS, HERE
from trainer.jobs.follow import FOLLOWED, require_token, submit
from trainer.runs.estimate import Estimate, estimate
from trainer.runs.hardware import Hardware
from trainer.intake.data import IntakeLimits, load_dataset_file
from trainer.intake.label_sets import LabelOptions
from trainer.training.method_choice import choose_method
from trainer.errors import UserError
from trainer.quality.label_errors import LabelErrors
from trainer.quality.search_process import label_errors_in_process
from trainer.runs.queue import (check_gpus, check_may_train, check_run_time, check_user_time, max_run_minutes, max_runs_per_user,
                    max_user_minutes, quota_owner)
from trainer.batch.jobs import BatchJobs
from trainer.batch.spec import BatchSpec, BatchStatus
from trainer.hub.hub_models import hub_classifier, local_copy
from trainer.models import check_remote_model
from trainer.predict import load_classifier
from trainer.runs.store import ACTIVE, STOP_REQUEST, Run, RunStore, not_found
from trainer.runs.start import prepare_run, reproduce_command, write_run
from trainer.runs.supervisor import PROJECT_ROOT, Supervisor
from trainer.runs.views import RunRow, RunStatus

BASE_MODEL = "base"  # "base:<run id>": a run's quick baseline; "tuned:<run id>": its fine-tuned model
RUN_MODEL, HUB_MODEL = "run", "hub"
PRIVATE_STATUS = ("owner", "pid", "pid_start", "submitted")  # the server's business, not the visitor's
LOOKS_LIKE_RUN_ID = re.compile(r"^\d{8}-\d{6}-")  # a mistyped run id is still "not found", not a Hub download


def model_reference(model: str) -> tuple[str, str]:
    """What a model string names: (BASE_MODEL | TUNED | RUN_MODEL | HUB_MODEL, the run id or Hub id).

    A plain run id means the model the run uses (its choice, see choice.py). Run ids have a fixed form
    (``20261124-065032-<16 characters>``): anything else is a Hub id, with a namespace or without one
    (``roberta-base``), as the Train tab accepts them.
    """
    model = model.strip() if isinstance(model, str) else ""
    for kind in (BASE_MODEL, TUNED):
        if model.startswith(f"{kind}:"):
            return kind, model.split(":", 1)[1]
    return (RUN_MODEL if LOOKS_LIKE_RUN_ID.match(model) else HUB_MODEL), model


def intake_limits() -> IntakeLimits:
    """Upload limits, configurable where the app runs (``CLASSITUNE_MAX_UPLOAD_MB``, ``CLASSITUNE_MAX_ROWS``)."""
    return IntakeLimits(max_bytes=int(float(os.environ.get("CLASSITUNE_MAX_UPLOAD_MB", "200")) * 1024 * 1024),
                        max_rows=int(os.environ.get("CLASSITUNE_MAX_ROWS", "1000000")))


class Service:
    """One per app process: owns the run store and the supervisor of training workers."""

    def __init__(self, root: Path | None = None, standby: bool = False, gpu_slot=None):
        self.store = RunStore(root)
        self.supervisor = Supervisor(self.store, standby=standby, gpu_slot=gpu_slot)
        self.supervisor.recover()
        if (self.store.root / "batch").exists():
            _ = self.batch  # batch jobs left running by a previous app process resume now

    @cached_property
    def batch(self) -> BatchJobs:
        return BatchJobs(self.store.root / "batch", self.store.state / "batch-locks")

    @cached_property
    def hardware(self) -> dict:
        """Probed in a subprocess, so the web server never initialises CUDA."""
        import json

        try:
            result = subprocess.run([sys.executable, "-m", "trainer", "hardware"], capture_output=True, text=True,
                                    cwd=PROJECT_ROOT, timeout=120)
            return json.loads(result.stdout)
        except (ValueError, OSError, subprocess.TimeoutExpired):  # a hung or broken probe must not stop the app
            return {"device": "unknown", "description": "Hardware could not be probed; training settings assume a CPU."}

    @property
    def on_gpu(self) -> bool:
        """Runs train on a GPU here (ZeroGPU included), which lifts auto's bound on setfit for time."""
        return self.hardware.get("device") == "cuda"

    # -- data ------------------------------------------------------------------------------------

    def validate(self, path: str, text_column: str | None = None, label_column: str | None = None,
                 validation_file: str | None = None, model: str | None = None, labels: LabelOptions | None = None):
        check_remote_model(model)
        labels = labels or LabelOptions()
        return load_dataset_file(path, text_column=text_column or None, label_column=label_column or None,
                                 validation_file=validation_file or None, model=model, limits=intake_limits(),
                                 task=labels.task, label_delimiter=labels.delimiter, label_columns=labels.columns)

    def label_errors(self, path: str, text_column: str | None = None, label_column: str | None = None,
                     model: str | None = None, labels: LabelOptions | None = None) -> LabelErrors:
        """Rank the file's rows by how likely their given label is wrong (label_errors.py); changes nothing."""
        check_remote_model(model)
        return label_errors_in_process(path, text_column, label_column, model, labels)

    def load_hub_dataset(self, dataset_id: str, split: str, folder: Path, token: str | None = None) -> Path:
        """A Hub dataset split as a Parquet file in ``folder``, within the upload limits, read with the caller's own
        ``token`` or anonymously, in a process of its own (hub_data.py)."""
        from trainer.intake.hub_data import fetch_in_process

        limits = intake_limits()
        return fetch_in_process(dataset_id, split, folder, limits.max_rows, limits.max_bytes, token)

    # -- runs ------------------------------------------------------------------------------------

    def start(self, owner: str, path: str, config: TrainConfig, validation_file: str | None = None,
              token: str | None = None) -> Run:
        """Validate, write a run directory with the prepared data, and launch its worker here, or its job on
        Hugging Face Jobs (``where``; on the account of ``token``, the caller's own, never the operator's).

        The per-user checks and the run's creation happen under one lock per share (queue.quota_owner), so
        Starts fired at once cannot all pass the check before any of them is counted."""
        check_may_train(owner)
        check_gpus(config.gpus if config.where == HERE else 1)
        if config.where != HERE:
            require_token(token)
        with self._share_lock(owner):
            self._check_active_runs(owner)
            run = self.prepare(owner, path, config, validation_file)
        self._launch(run, token)
        return run

    def _launch(self, run: Run, token: str | None) -> None:
        if run.config().get("where", HERE) == HERE:
            self.supervisor.start(run)
        else:
            submit(self.store, run, token)

    @contextlib.contextmanager
    def _share_lock(self, owner: str):
        folder = self.store.state / "locks"
        folder.mkdir(exist_ok=True)
        name = hashlib.sha256(quota_owner(owner).encode()).hexdigest()[:24]
        with open(folder / f"share-{name}.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def _active_runs(self, owner: str) -> list[Run]:
        """The runs queued or running in the caller's share: the registry row, confirmed by the run's own status
        (the row may be stale); a damaged run directory does not count."""
        share, active = quota_owner(owner), []
        for row in self.store.list():
            if row["state"] not in ACTIVE or quota_owner(row.get("owner") or "") != share:
                continue
            try:
                run = self.store.get(row["id"])
                if run.status().get("state") in ACTIVE:
                    active.append(run)
            except (UserError, OSError, ValueError):
                continue
        return active

    def _check_active_runs(self, owner: str) -> None:
        """One visitor may not fill the shared queue: at most ``CLASSITUNE_MAX_RUNS_PER_USER`` queued or running
        (queue.py); waiting runs cost no process, and users take turns."""
        limit, active = max_runs_per_user(), self._active_runs(owner)
        if len(active) >= limit:
            who = ("Visitors who are not signed in together have" if quota_owner(owner) == "anonymous"
                   else "You already have")
            raise UserError(f"{who} {len(active)} runs queued or running, the most one user may have at "
                            f"once ({limit}). Wait for one to finish, or cancel one (Train tab, or cancel_run).")

    def prepare(self, owner: str, path: str, config: TrainConfig, validation_file: str | None = None) -> Run:
        """Validate and write a queued run directory (start.py: the same for the app, the CLI and benchmarks)."""
        check_remote_model(config.model)
        here = config.where == HERE
        on_gpu = self.on_gpu if here else FLAVORS[config.where].device == "cuda"
        prepared = prepare_run(path, config, validation_file, intake_limits(), on_gpu)
        booked = None
        # The operator's time caps are for this machine; a job runs (and is billed) on the user's own account.
        if here and (max_run_minutes() is not None or max_user_minutes() is not None):  # the estimate probes the hardware
            booked = self.estimate(owner, prepared.config, prepared.intake.report.to_dict()).cautious_seconds
            check_run_time(booked)
            check_user_time(booked, sum(r.status().get("estimate_seconds") or 0 for r in self._active_runs(owner)))
        planned = self.estimate(owner, prepared.config, prepared.intake.report.to_dict()).record() if here else None
        run = self.store.create(owner, prepared.dataset, prepared.config.to_dict())
        write_run(run, prepared)
        run.update_status(estimate_seconds=booked, estimate=planned)  # the run says at the end how long it took
        return run

    def again(self, run_id: str, owner: str, token: str | None = None) -> Run:
        """Start a past run again: its saved settings on its saved data, as a new run ("start again")."""
        import shutil

        old = self.run(run_id, owner)
        if not (old.path("data") / "train.parquet").exists():
            raise UserError(f"Run {old.id} has no saved data to train on again; start a new run from your file.")
        check_may_train(owner)
        with self._share_lock(owner):
            self._check_active_runs(owner)
            run = self.store.create(owner, old.status().get("dataset") or "data", old.config(), old.labels(),
                                    json.loads(old.path("data_report.json").read_text()))
            shutil.copytree(old.path("data"), run.path("data"))
            run.update_status(method_choice=old.status().get("method_choice"), started_from=old.id)
        self._launch(run, token)
        return run

    def run(self, run_id: str, owner: str) -> Run:
        """The caller's run with this id; someone else's run is "not found", like a missing one."""
        run = self.store.get(run_id)
        if not owner or self.store.owner_of(run) != owner:
            raise UserError(not_found(run_id))
        return run

    def status(self, run_id: str, owner: str) -> RunStatus:
        """State, progress, queue position, latest metrics and the result, without the server's private keys."""
        run = self.run(run_id, owner)
        status = run.status()
        events = run.metrics()
        latest_train = next((e for e in reversed(events) if e.get("type") == "train"), None)
        latest_eval = next((e for e in reversed(events) if e.get("type") == "eval"), None)
        progress = status.get("progress") or {}
        fraction = progress.get("step", 0) / max(1, progress.get("max_steps") or 1)
        if status.get("state") == "succeeded":
            fraction = 1.0
        result = {k: v for k, v in status.items() if k not in PRIVATE_STATUS}
        result.update(run_id=run.id, fraction=round(fraction, 4), latest_train=latest_train, latest_eval=latest_eval,
                      stop_requested=run.path(STOP_REQUEST).exists(), reproduce=reproduce_command(run))
        if status.get("state") == "queued":
            result["queue_position"] = status.get("queue_position") or 0  # kept by the supervisor's dispatch
        return RunStatus.read(result)

    def cancel(self, run_id: str, owner: str) -> RunStatus:
        run = self.run(run_id, owner)
        job = run.status().get("job")
        if job and run.status().get("state") in ("queued", "running"):
            if run.id not in FOLLOWED:
                raise UserError(f"This app restarted since the job started, so it can no longer act on it: cancel it "
                                f"on its page, {job['url']}.")
            FOLLOWED[run.id].cancel()  # the follower records "cancelled" once the Hub says so
            return self.status(run_id, owner)
        self.supervisor.cancel(run)
        return self.status(run_id, owner)

    def stop(self, run_id: str, owner: str) -> RunStatus:
        """Stop a running run early and keep it: training ends after the current step, and the best model so far
        is evaluated and saved like a finished run's (train.py watches for ``STOP_REQUEST``)."""
        run = self.run(run_id, owner)
        state = run.status().get("state")
        if state == "queued":
            raise UserError(f"Run {run.id} has not started training yet: there is no model to keep. Cancel it instead.")
        if state != "running":
            raise UserError(f"Run {run.id} is {state}: only a running run can be stopped.")
        run.path(STOP_REQUEST).touch()
        return self.status(run_id, owner)

    def resume(self, run_id: str, owner: str) -> RunStatus:
        run = self.run(run_id, owner)
        state = run.status().get("state")
        if state != "interrupted":
            raise UserError(f"Only interrupted runs can be resumed; this run is {state}.")
        if run.status().get("job"):
            raise UserError(f"This run trained on Hugging Face Jobs, where it may still be running "
                            f"({run.status()['job']['url']}): start it again instead.")
        check_may_train(owner)
        if "pooling" not in run.config():  # its checkpoints have another model shape and optimizer layout
            raise UserError(f"Run {run.id} was started by an earlier version of ClassiTune, whose checkpoints the "
                            f"current training cannot continue: start it again (same file and settings).")
        self._check_active_runs(owner)
        self.supervisor.start(run, resume=True)
        return self.status(run_id, owner)

    def choose(self, run_id: str, owner: str, which: str) -> RunStatus:
        """Set which of a finished run's two models Predict (by run id) and Publish use."""
        run = self.run(run_id, owner)
        which = check_choice(which)
        if run.status().get("state") != "succeeded":
            raise UserError(f"Run {run.id} has not finished ({run.status().get('state')}); choose its model once it has.")
        run.update_status(chosen_model=which)
        self.store.index(run)  # the run list shows the scores of the model in use
        return self.status(run_id, owner)

    def list(self, owner: str) -> list[RunRow]:
        """The caller's runs, newest first."""
        return [RunRow.read(row) for row in self.store.list(owner)]

    def activity(self, run_id: str, owner: str, lines: int = 8) -> list[str]:
        """The run's last activity lines (activity.py), ending with how it ended once it has."""
        run = self.run(run_id, owner)
        status = run.status()
        shown = run.activity(lines)
        ending = state_line(status.get("state", ""), status)
        if ending and (not shown or shown[-1] != ending):
            shown = [*shown, ending][-lines:]
        return shown

    def estimate(self, owner: str, config: TrainConfig, report: dict) -> Estimate:
        """How long this config on this validated data will take here (estimate.py), before Start."""
        history = []
        for row in self.store.list(owner)[:20]:
            try:
                run = self.store.get(row["id"])
                history.append({**run.status(), "config": run.config()})
            except (UserError, OSError, ValueError):
                continue
        config = TrainConfig.from_dict(config.to_dict())
        config.method, why = choose_method(config, report, self.on_gpu)
        sizes = report.get("split_sizes") or {}
        max_length = config.max_length or (report.get("length") or {}).get("suggested_max_length") or 128
        found = estimate(config, int(sizes.get("train", 0)), int(sizes.get("validation", 0)), int(max_length),
                         Hardware.from_dict(self.hardware), history)
        found.method_why = why
        return found

    # -- prediction ------------------------------------------------------------------------------

    def classifier(self, model: str, owner: str, token: str | None = None):
        """A run id (the model the run uses: its choice, see choice.py), ``tuned:<run id>`` (its fine-tuned model),
        ``base:<run id>`` (its quick baseline), or a Hub classifier id (read with the caller's ``token``, or none)."""
        kind, name = model_reference(model)
        if not name:
            raise UserError("Choose a model: one of your runs, its base model, or a Hub classifier id.")
        if kind == HUB_MODEL:
            return hub_classifier(name, token)
        run = self.run(name, owner)
        if kind == BASE_MODEL or (kind == RUN_MODEL and chosen_model(run.status()) == BASELINE):
            return load_classifier(run.dir, kind="baseline")
        if run.status().get("state") != "succeeded" or not (run.model_dir / "config.json").exists():
            raise UserError(f"Run {run.id} has no tuned model yet (it is {run.status().get('state')}).")
        return load_classifier(run.model_dir)

    def predict(self, model: str, texts: list[str], owner: str, top_k: int = 3,
                threshold: float | None = None, token: str | None = None) -> list[dict]:
        """Label (multi-label: the label set), confidence and top-k per text, in the order given (the classifier
        checks the texts); ``threshold`` replaces a multi-label model's tuned thresholds."""
        return self.classifier(model, owner, token).predict(texts, top_k=max(1, int(top_k)), threshold=threshold)

    # -- batch prediction jobs (trainer/batch/) ---------------------------------------------------

    def start_batch(self, owner: str, model: str, path: str | None = None, text_column: str = "text",
                    hub_dataset: str = "", split: str = "train", token: str | None = None,
                    where: str = HERE) -> BatchStatus:
        """Classify a whole file (CSV, TSV, JSON Lines, Parquet, plain text) or a Hub dataset split in a background
        worker; return the job's status. The model is resolved now, so a resumed job reads with the same one."""
        kind, name = model_reference(model)
        if not name:
            raise UserError("Choose a model: one of your runs, its base model, or a Hub classifier id.")
        if where != HERE:  # on the user's own account (batch/on_jobs.py)
            if not isinstance(where, str) or where not in FLAVORS:
                raise UserError(f"Where to run {str(where)[:40]!r} is not one of: here, {', '.join(FLAVORS)}.")
            require_token(token)
        if kind == HUB_MODEL:
            model_path, which = local_copy(name, token), None
        else:
            run = self.run(name, owner)
            which = BASELINE if kind == BASE_MODEL else TUNED if kind == TUNED else chosen_model(run.status())
            if which == TUNED and run.status().get("state") != "succeeded":
                raise UserError(f"Run {run.id} has no tuned model yet (it is {run.status().get('state')}).")
            model_path = str(run.dir)
        if hub_dataset:
            from trainer.intake.hub_data import check_hub_dataset_id, check_split

            hub_dataset, split = check_hub_dataset_id(hub_dataset), check_split(split)
        elif not path:
            raise UserError("Send a file to classify, or name a Hub dataset (id and split).")
        spec = BatchSpec(model=model, model_path=model_path, which=which, text_column=text_column or "text",
                         input_name=Path(path).name if path and not hub_dataset else "", hub_dataset=hub_dataset,
                         split=split, where=where)
        job = self.batch.start(owner, spec, Path(path) if path and not hub_dataset else None, token)
        return self.batch.status(job.id, owner)
