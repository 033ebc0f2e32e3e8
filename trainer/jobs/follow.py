"""The app side of a run on Hugging Face Jobs: submit it on the user's account, mirror it, bring the result home.

``submit`` uploads the prepared run directory (its config with ``where=here``, labels and data splits) to a
private dataset repo of the user and starts ``python -m trainer job-run`` there, on the chosen flavor, with the
user's token as the job's secret. A ``Follower`` thread then polls the job (``inspect_job``) and its logs
(``fetch_job_logs``) every few seconds and writes what the job printed (remote_run.py) into the local run
directory, so the Train and Metrics tabs show it like a local run. Stop and keep uploads ``control/stop``; cancel
cancels the job. When the job completes, the run folder it uploaded becomes the local run (Predict, Publish and
the demo Space use it as any run) and the data repo is deleted.

The token lives only in the follower's memory: it is never written to the run, the status, a log or the UI. So
an app restart cannot follow a job further: the run then says so, with the job's page (it keeps running there
and its model still lands in the user's repo).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path

from trainer.errors import UserError
from trainer.jobs.remote_run import PREFIX, STOP_FILE
from trainer.runs.store import STOP_REQUEST, Run, RunStore

FOLLOWED: dict[str, "Follower"] = {}  # run id -> its follower in this process
POLL_SECONDS = float(os.environ.get("CLASSITUNE_JOB_POLL_SECONDS", "3"))
TERMINAL = ("COMPLETED", "CANCELED", "ERROR", "DELETED")


def job_image() -> str:
    """The image jobs run in: the Space's own (the same code and pinned requirements), or the operator's choice."""
    if os.environ.get("CLASSITUNE_JOB_IMAGE"):
        return os.environ["CLASSITUNE_JOB_IMAGE"]
    if os.environ.get("SPACE_ID"):
        return f"hf.co/spaces/{os.environ['SPACE_ID']}"
    raise UserError("Training on Hugging Face Jobs needs an image to run in: on a Space it is the Space's own; "
                    "elsewhere the operator sets CLASSITUNE_JOB_IMAGE.")


def job_error(exc: Exception) -> str:
    """What the Hub said about a job request, in words a user can act on."""
    from huggingface_hub.errors import HfHubHTTPError

    if isinstance(exc, HfHubHTTPError) and exc.response is not None:
        code = exc.response.status_code
        return {401: "the Hub rejected the token (invalid or expired); sign in again",
                402: "Hugging Face Jobs needs a payment method or credits on your account (huggingface.co/settings/billing)",
                403: "your sign-in or token does not allow running jobs: sign in again and grant the 'jobs' permission, "
                     "or use a token with the jobs scope"}.get(code, f"the Hub answered {code}: {exc.server_message or exc}")
    return f"could not reach the Hugging Face Hub ({type(exc).__name__})"


def require_token(token: str | None) -> None:
    if not token:
        raise UserError("Hugging Face Jobs run on your own account: sign in with Hugging Face (the "
                        "app asks for the 'jobs' permission) or pass a token with the jobs scope, then start again.")


def repo_safe(run_id: str) -> str:
    """A run id as part of a Hub repo name: its random part may hold "--", "-_" or end in "-", which the Hub refuses."""
    return re.sub(r"[-_.]{2,}", "-", run_id).strip("-_.")


def submit(store: RunStore, run: Run, token: str | None) -> "Follower":
    """Hand a prepared run to Hugging Face Jobs on the token's account; return its follower (already running)."""
    from trainer.hub.client import hub_api

    require_token(token)
    api = hub_api(token, None)
    config = run.config()
    try:
        user = api.whoami()["name"]
        data_repo, model_repo = f"{user}/classitune-run-{repo_safe(run.id)}", f"{user}/classitune-{repo_safe(run.id)}"
        api.create_repo(data_repo, repo_type="dataset", private=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            staged = Path(tmp) / "run"
            shutil.copytree(run.dir, staged, ignore=shutil.ignore_patterns("*.lock", "status.json", "*.log"))
            (staged / "config.json").write_text(json.dumps({**config, "where": "here"}))  # it trains "here", there
            api.upload_folder(repo_id=data_repo, repo_type="dataset", folder_path=tmp,
                              commit_message="A ClassiTune run to train")
        job = api.run_job(image=job_image(), command=["python", "-m", "trainer", "job-run", "--data-repo",
                                                      data_repo, "--model-repo", model_repo],
                          secrets={"HF_TOKEN": token}, flavor=config["where"], namespace=user,
                          labels={"classitune-run": run.id})
    except UserError:
        raise
    except Exception as exc:
        message = f"Could not start the job on Hugging Face Jobs: {job_error(exc)}."
        store.set_state(run, "failed", error=message)
        raise UserError(message) from exc
    follower = Follower(store, run, api, job.id, user)
    FOLLOWED[run.id] = follower  # before the status names the job: the supervisor leaves followed job runs alone
    run.update_status(job={"id": job.id, "namespace": user, "flavor": config["where"], "url": job.url,
                           "data_repo": data_repo, "model_repo": model_repo})
    follower.start()
    return follower


class JobFollower(threading.Thread):
    """Polls one job on Hugging Face Jobs and its logs until it ends; what a printed line and the end mean is the
    subclass's (a training run here, a batch prediction job in trainer/batch/on_jobs.py)."""

    def __init__(self, api, job_id: str, namespace: str, name: str):
        super().__init__(daemon=True, name=name)
        self.api, self.job_id, self.namespace = api, job_id, namespace
        self.lines_seen, self.other_lines = 0, []

    def run(self) -> None:  # noqa: D102 (threading.Thread's entry point)
        try:
            while True:
                stage, message = self._stage()
                self._read_logs()
                if stage in TERMINAL:
                    self.finish(stage, message)
                    return
                self.between_polls()
                time.sleep(POLL_SECONDS)
        except Exception as exc:
            self.lost(job_error(exc))
        finally:
            self.forget()

    def cancel(self) -> None:
        self.api.cancel_job(job_id=self.job_id, namespace=self.namespace)

    def _stage(self) -> tuple[str, str | None]:
        info = self.api.inspect_job(job_id=self.job_id, namespace=self.namespace)
        return str(info.status.stage.value if hasattr(info.status.stage, "value") else info.status.stage), \
            info.status.message

    def _read_logs(self) -> None:
        lines = list(self.api.fetch_job_logs(job_id=self.job_id, namespace=self.namespace, follow=False))
        for line in lines[self.lines_seen:]:
            if line.startswith(PREFIX):
                kind, _, payload = line[len(PREFIX):].partition(" ")
                self.on_line(kind, json.loads(payload))
            else:
                self.other_lines = (self.other_lines + [line])[-5:]
        self.lines_seen = max(self.lines_seen, len(lines))

    def why_failed(self, said: str | None, message: str | None) -> str:
        """The job's own error: what it printed as its error, else the Hub's message, else its last lines."""
        return said or message or " / ".join(self.other_lines) or "no message"

    def on_line(self, kind: str, value) -> None:
        raise NotImplementedError

    def between_polls(self) -> None:
        """Anything to pass on to the job while it runs (a stop request)."""

    def finish(self, stage: str, message: str | None) -> None:
        raise NotImplementedError

    def lost(self, why: str) -> None:
        raise NotImplementedError

    def forget(self) -> None:
        raise NotImplementedError


class Follower(JobFollower):
    """A training run on Jobs, mirrored into its local run directory."""

    def __init__(self, store: RunStore, run: Run, api, job_id: str, namespace: str):
        super().__init__(api, job_id, namespace, name=f"job-{run.id}")
        self.store, self.run_dir, self.stop_sent = store, run, False

    def between_polls(self) -> None:
        run = self.run_dir
        if run.path(STOP_REQUEST).exists() and not self.stop_sent:
            self.api.upload_file(path_or_fileobj=b"stop", path_in_repo=STOP_FILE,
                                 repo_id=run.status()["job"]["data_repo"], repo_type="dataset")
            self.stop_sent = True

    def lost(self, why: str) -> None:
        run = self.run_dir
        self.store.set_state(run, "failed", error=f"Lost track of the job on Hugging Face Jobs ({why}); "
                             f"see it at {run.status().get('job', {}).get('url')}.")

    def forget(self) -> None:
        FOLLOWED.pop(self.run_dir.id, None)

    def on_line(self, kind: str, value) -> None:
        run = self.run_dir
        if kind == "STATUS":
            state = value.pop("state", None)
            if state == "running" and run.status().get("state") == "queued":
                self.store.set_state(run, "running", **value)
            elif value:
                run.update_status(**value)
        elif kind == "EVENT":
            run.append_metrics(value)
        elif kind == "SAY":
            run.append_activity(value)
        elif kind == "ERROR":
            run.update_status(job_error=value)

    def finish(self, stage: str, message: str | None) -> None:
        run = self.run_dir
        job = run.status()["job"]
        if stage == "COMPLETED":
            with tempfile.TemporaryDirectory() as tmp:
                self.api.snapshot_download(job["data_repo"], repo_type="dataset", local_dir=tmp,
                                           allow_patterns=["output/*"])
                for item in Path(tmp, "output").iterdir():
                    if item.name in ("status.json", "config.json"):
                        continue
                    target = run.path(item.name)
                    if target.is_dir():
                        shutil.rmtree(target)
                    else:
                        target.unlink(missing_ok=True)
                    shutil.move(str(item), target)
                final = json.loads(Path(tmp, "output", "status.json").read_text())
            kept = {k: v for k, v in final.items() if k not in ("owner", "created", "pid", "pid_start", "state")}
            state, fields = "succeeded", {**kept, "phase": "done"}
        elif stage == "CANCELED":
            state, fields = "cancelled", {"error": "Cancelled: the job on Hugging Face Jobs was cancelled."}
        else:
            why = self.why_failed(run.status().get("job_error"), message)
            state, fields = "failed", {"error": f"The job on Hugging Face Jobs failed: {why}"}
        try:  # before the run says it ended, so that an ended run has no data repo left behind
            self.api.delete_repo(job["data_repo"], repo_type="dataset")
        except Exception:  # the data repo is private to the user; a failed clean-up is theirs to see, not fatal
            pass
        self.store.set_state(run, state, **fields)

