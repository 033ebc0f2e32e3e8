"""The job side: train a run directory handed over through a private dataset repo, and hand the result back.

Runs on Hugging Face Jobs as ``python -m trainer job-run --data-repo NS/NAME --model-repo NS/NAME`` with the
user's token as the job's ``HF_TOKEN`` secret (never in the command, the environment list or a file). It trains
exactly as the app's worker does (the same code, on the run's saved config), and meanwhile prints what the app
mirrors, one prefixed JSON line at a time: ``CLASSITUNE-STATUS`` (phase, progress, ...), ``CLASSITUNE-EVENT``
(a metrics event) and ``CLASSITUNE-SAY`` (an activity line). A ``control/stop`` file in the data repo means
"stop and keep". At the end the run folder (without its data) goes to the data repo's ``output/``, for the app
to download, and the model it recommends to the private model repo, with its card.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path

from trainer.runs.store import STOP_REQUEST, Run

PREFIX = "CLASSITUNE-"
MIRRORED = ("state", "phase", "progress", "error", "hardware", "model", "model_choice", "config_resolved",
            "baseline", "best", "label_check", "samples_per_second", "train_seconds")
STOP_FILE = "control/stop"


def say(kind: str, payload) -> None:
    print(f"{PREFIX}{kind} {json.dumps(payload, ensure_ascii=False, default=str)}", flush=True)


class Mirror(threading.Thread):
    """Prints what changed in the run directory; turns the data repo's stop file into the run's stop request."""

    def __init__(self, run: Run, data_repo: str, api, every: float = 2.0):
        super().__init__(daemon=True)
        self.run, self.data_repo, self.api, self.every = run, data_repo, api, every
        self.done = threading.Event()
        self.sent_status, self.events, self.lines, self.last_stop_check = {}, 0, 0, 0.0

    def run_once(self) -> None:
        status = {k: v for k, v in self.run.status().items() if k in MIRRORED}
        changed = {k: v for k, v in status.items() if self.sent_status.get(k) != v}
        if changed:
            say("STATUS", changed)
            self.sent_status.update(changed)
        events = self.run.metrics()
        for event in events[self.events:]:
            say("EVENT", event)
        self.events = len(events)
        lines = self.run.activity(10_000)
        for line in lines[self.lines:]:
            say("SAY", line)
        self.lines = len(lines)
        if time.time() - self.last_stop_check > 10 and not self.run.path(STOP_REQUEST).exists():
            self.last_stop_check = time.time()
            if self.api.file_exists(self.data_repo, STOP_FILE, repo_type="dataset"):
                self.run.path(STOP_REQUEST).touch()

    def run(self) -> None:  # noqa: D102 (threading.Thread's entry point)
        while not self.done.wait(self.every):
            try:
                self.run_once()
            except Exception as exc:  # a Hub hiccup must not end the training
                print(f"mirror: {type(exc).__name__}: {exc}", flush=True)

    def finish(self) -> None:
        self.done.set()
        self.join(timeout=30)
        self.run_once()


def main(data_repo: str, model_repo: str, workdir: Path | None = None) -> int:
    from huggingface_hub import HfApi

    from trainer.hub.publish import PublishOptions, push
    from trainer.runs.worker import train_prepared

    api = HfApi(token=os.environ.get("HF_TOKEN"))
    folder = workdir or Path(tempfile.mkdtemp(prefix="classitune-job-"))  # its own, whatever else runs beside it
    api.snapshot_download(data_repo, repo_type="dataset", local_dir=folder, allow_patterns=["run/*"])
    run = Run(folder / "run")
    mirror = Mirror(run, data_repo, api)
    mirror.start()
    try:
        train_prepared(run, store=None)
    except Exception as exc:
        mirror.finish()
        say("ERROR", str(exc) or type(exc).__name__)
        return 1
    mirror.finish()
    api.upload_folder(repo_id=data_repo, repo_type="dataset", folder_path=str(run.dir), path_in_repo="output",
                      ignore_patterns=["data/*", "checkpoints/*", "*.lock"], commit_message="The trained run")
    pushed = push(run, PublishOptions(repo_id=model_repo, private=True), os.environ.get("HF_TOKEN"),
                  os.environ.get("HF_ENDPOINT"))
    say("DONE", {"model_repo": model_repo, "url": pushed["url"]})
    return 0
