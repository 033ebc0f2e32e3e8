"""Batch prediction jobs on Hugging Face Jobs: the same worker, on the user's own account and hardware.

App side (``submit``, ``BatchFollower``): the job's spec and input file, and the model it reads (the run's folder
without its training data and checkpoints, or the Hub model's local copy), go to a private dataset repo of the
user; ``python -m trainer batch-job-run`` starts there on the chosen flavor, with the user's token as the job's
secret. A follower thread mirrors the job's progress lines into the local job folder (rows done, speed, time left),
brings the output file home when the job completes, and deletes the data repo. Cancel cancels the job.

Job side (``main``): download, classify with ``work.run_batch`` chunk by chunk exactly as a local worker does,
print progress, upload the output to the data repo's ``output/``.

As for training jobs (trainer/jobs/follow.py), the token lives only in the follower's memory, so an app restart
cannot follow a job further: the job then says so, with the job's page.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import tempfile
import threading
from pathlib import Path

from trainer.batch.spec import CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED, BatchJob
from trainer.errors import UserError
from trainer.jobs.follow import JobFollower, job_error, job_image, repo_safe, require_token
from trainer.jobs.remote_run import say

FOLLOWED: dict[str, "BatchFollower"] = {}  # job id -> its follower in this process
SUBMITTING: set[str] = set()  # job ids being handed over by this process (uploads take a while)
MIRRORED = ("rows_total", "rows_done", "rows_per_second", "eta_seconds", "resumed_chunks")
LEFT_BEHIND = ("data", "checkpoints", "*.lock", "*.log", "status.json", "metrics.jsonl", "eval_predictions.csv")


def submit(job: BatchJob, token: str | None) -> None:
    """Hand a queued job to Hugging Face Jobs on the token's account and follow it; a refusal fails the job with
    the Hub's reason (and raises it as a ``UserError``)."""
    from trainer.hub.client import hub_api

    SUBMITTING.add(job.id)
    try:
        require_token(token)
        _submit(job, token, hub_api(token, None))
    except UserError as exc:
        if job.status().get("state") == QUEUED:
            job.update(state=FAILED, error=str(exc))
        raise
    finally:
        SUBMITTING.discard(job.id)


def followed(job_id: str) -> bool:
    """Whether this process follows (or is handing over) the job; otherwise an app restart lost it."""
    return job_id in FOLLOWED or job_id in SUBMITTING


def _submit(job: BatchJob, token: str, api) -> None:
    spec, data_repo = job.spec(), None
    try:
        user = api.whoami()["name"]
        data_repo = f"{user}/classitune-batch-{repo_safe(job.id)}"
        api.create_repo(data_repo, repo_type="dataset", private=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            staged = Path(tmp) / "job"
            shutil.copytree(spec.model_path, staged / "model", ignore=shutil.ignore_patterns(*LEFT_BEHIND))
            remote_spec = dataclasses.replace(spec, model_path="model", where="here")  # it runs "here", there
            (staged / "spec.json").write_text(json.dumps(dataclasses.asdict(remote_spec)))
            if job.input_path.exists():
                shutil.copyfile(job.input_path, staged / job.input_path.name)
            api.upload_folder(repo_id=data_repo, repo_type="dataset", folder_path=tmp,
                              commit_message="A ClassiTune batch prediction job")
        remote = api.run_job(image=job_image(), command=["python", "-m", "trainer", "batch-job-run", "--data-repo",
                                                         data_repo],
                             secrets={"HF_TOKEN": token}, flavor=spec.where, namespace=user,
                             labels={"classitune-batch": job.id})
    except UserError:
        raise
    except Exception as exc:
        message = f"Could not start the job on Hugging Face Jobs: {job_error(exc)}."
        job.update(state=FAILED, error=message)
        if data_repo:
            with contextlib.suppress(Exception):  # nothing of the user's data stays behind
                api.delete_repo(data_repo, repo_type="dataset")
        raise UserError(message) from exc
    follower = BatchFollower(job, api, remote.id, user)
    FOLLOWED[job.id] = follower  # before the status says "running": the watcher leaves followed jobs alone
    job.update(state=RUNNING, pid=None, remote={"id": remote.id, "namespace": user, "flavor": spec.where,
                                                "url": remote.url, "data_repo": data_repo})
    follower.start()


def unfollowed_message(job: BatchJob) -> str:
    remote = job.status().get("remote") or {}
    return (f"This app restarted while the job ran on Hugging Face Jobs, so it can no longer follow it (your sign-in "
            f"is kept in memory only). Its page: {remote.get('url')}; start the job again to get the file here.")


class BatchFollower(JobFollower):
    """A batch job on Jobs, mirrored into its local job folder."""

    def __init__(self, job: BatchJob, api, job_id: str, namespace: str):
        super().__init__(api, job_id, namespace, name=f"batch-job-{job.id}")
        self.job, self.error = job, None

    def on_line(self, kind: str, value) -> None:
        if kind == "BATCH":
            self.job.update(**{k: v for k, v in value.items() if k in MIRRORED})
        elif kind == "ERROR":
            self.error = value

    def finish(self, stage: str, message: str | None) -> None:
        remote = self.job.status()["remote"]
        if stage == "COMPLETED":
            name = self.job.output_path.name
            with tempfile.TemporaryDirectory() as tmp:
                self.api.hf_hub_download(remote["data_repo"], f"output/{name}", repo_type="dataset", local_dir=tmp)
                shutil.move(str(Path(tmp, "output", name)), self.job.output_path)
            total = self.job.status().get("rows_total")
            ended = {"state": SUCCEEDED, "rows_done": total, "eta_seconds": 0, "output": name}
        elif stage == "CANCELED":
            ended = {"state": CANCELLED}
        else:
            ended = {"state": FAILED, "error": f"The job on Hugging Face Jobs failed: "
                                               f"{self.why_failed(self.error, message)}"}
        try:  # before the job says it ended, so that an ended job has no data repo left behind
            self.api.delete_repo(remote["data_repo"], repo_type="dataset")
        except Exception:  # the data repo is private to the user; a failed clean-up is not fatal
            pass
        self.job.update(**ended)

    def lost(self, why: str) -> None:
        url = (self.job.status().get("remote") or {}).get("url")
        self.job.update(state=FAILED, error=f"Lost track of the job on Hugging Face Jobs ({why}); see it at {url}.")

    def forget(self) -> None:
        FOLLOWED.pop(self.job.id, None)


def main(data_repo: str) -> int:
    """``python -m trainer batch-job-run`` inside the job: classify the handed-over input, hand the output back."""
    from huggingface_hub import HfApi

    from trainer.batch.work import TOKEN_ENV, run_batch

    api = HfApi(token=os.environ.get("HF_TOKEN"))
    folder = Path(tempfile.mkdtemp(prefix="classitune-batch-"))
    api.snapshot_download(data_repo, repo_type="dataset", local_dir=folder, allow_patterns=["job/*"])
    job = BatchJob(folder / "job")
    job.write_spec(dataclasses.replace(job.spec(), model_path=str(job.path("model"))))
    if job.spec().hub_dataset and os.environ.get("HF_TOKEN"):
        os.environ[TOKEN_ENV] = os.environ["HF_TOKEN"]  # a private Hub dataset is read with the user's own token
    job.update(state=RUNNING)
    done = threading.Event()

    def mirror() -> None:
        sent = {}
        while not done.wait(2.0):
            status = {k: v for k, v in job.status().items() if k in MIRRORED}
            if status != sent:
                say("BATCH", status)
                sent = status

    threading.Thread(target=mirror, daemon=True).start()
    status = run_batch(job, say=lambda line: say("SAY", line))
    done.set()
    say("BATCH", {k: v for k, v in status.items() if k in MIRRORED})
    if status.get("state") != SUCCEEDED:
        say("ERROR", status.get("error") or status.get("state"))
        return 1
    api.upload_file(path_or_fileobj=str(job.output_path), path_in_repo=f"output/{job.output_path.name}",
                    repo_id=data_repo, repo_type="dataset", commit_message="The labelled file")
    return 0
