"""Training on Hugging Face Jobs, against the Hub stand-in's Jobs API (jobs_standin.py): the real huggingface_hub
client submits, inspects, reads logs and cancels; the job runs here as a subprocess of ``python -m trainer job-run``."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest

from tiny import tiny_classifier
from trainer.jobs.follow import repo_safe
from trainer.config import TrainConfig
from trainer.errors import UserError
from trainer.service import Service

pytestmark = pytest.mark.quick
EXAMPLE = Path(__file__).resolve().parent.parent / "assets" / "banking77_sample.csv"
ALICE, BOB, CAROL = "hf_standin_write_alice", "hf_standin_write_bob", "hf_standin_write_carol"


def hub_model(hub, tmp_path: Path, name: str) -> str:
    """A tiny public model in the stand-in Hub (the app trains from Hub ids, never from a server path)."""
    from huggingface_hub import HfApi

    api = HfApi(endpoint=hub.url, token=ALICE)
    api.create_repo(f"alice/{name}", exist_ok=True)
    api.upload_folder(repo_id=f"alice/{name}", folder_path=str(tiny_classifier(tmp_path / name, labels=("a", "b"))))
    return f"alice/{name}"


def wait(run, seconds: float = 180) -> dict:
    deadline = time.time() + seconds
    while run.status().get("state") in ("queued", "running") and time.time() < deadline:
        time.sleep(0.5)
    return run.status()


def settings(model: str, **changes) -> TrainConfig:
    return TrainConfig(**{"model": model, "method": "full", "epochs": 2, "max_length": 32, "where": "t4-small",
                          **changes})


def data(tmp_path: Path) -> str:
    frame = pd.read_csv(EXAMPLE)
    path = tmp_path / "two-intents.csv"
    frame[frame["label"].isin(frame["label"].unique()[:2])].to_csv(path, index=False)
    return str(path)


def test_a_run_on_jobs_trains_there_shows_here_and_lands_in_the_users_repo(on_standin, data_root, tmp_path):
    from trainer.predict import Classifier

    service = Service(data_root)
    run = service.start("alice-key", data(tmp_path), settings(hub_model(on_standin, tmp_path, "tiny")), token=ALICE)
    job = run.status()["job"]
    assert job["flavor"] == "t4-small" and job["model_repo"] == f"alice/classitune-{repo_safe(run.id)}"
    status = wait(run)
    assert status["state"] == "succeeded", status.get("error")
    assert run.metrics() and any(e.get("type") == "eval" for e in run.metrics())  # the charts' data came home
    assert any("evaluating" in line for line in run.activity(200))
    repo = on_standin.hub.repos[f"model:{job['model_repo']}"]
    assert repo["private"] and "README.md" in repo["files"]
    assert f"dataset:{job['data_repo']}" not in on_standin.hub.repos  # the data was cleaned up
    texts = ["I still have not received my new card", "how do I top up"]
    assert Classifier(str(run.model_dir)).predict(texts, top_k=1)  # usable here like a local run's model
    secrets = [j["spec"].get("secrets") for j in on_standin.hub.jobs.jobs.values()]
    assert all(s == {"HF_TOKEN": ALICE} for s in secrets)  # the user's token, as the job's secret only
    assert ALICE not in (run.dir / "status.json").read_text() and ALICE not in str(run.config())
    with pytest.raises(UserError):
        service.status(run.id, "bob-key")  # another user cannot see it


def test_cancel_cancels_the_job_and_a_failing_job_says_why(on_standin, data_root, tmp_path):
    service = Service(data_root)
    model = hub_model(on_standin, tmp_path, "tiny")
    run = service.start("alice-key", data(tmp_path), settings(model, epochs=50), token=ALICE)
    time.sleep(2)
    service.cancel(run.id, "alice-key")
    assert wait(run, 60)["state"] == "cancelled"
    assert on_standin.hub.jobs.jobs[run.status()["job"]["id"]]["stage"] == "CANCELED"
    gone = hub_model(on_standin, tmp_path, "gone")  # there when the run is prepared, deleted before the job trains
    run = service.start("alice-key", data(tmp_path), settings(gone), token=ALICE)
    del on_standin.hub.repos[f"model:{gone}"]
    status = wait(run, 120)
    assert status["state"] == "failed" and "The job on Hugging Face Jobs failed" in status["error"]


def test_without_the_jobs_permission_the_user_gets_a_message(on_standin, data_root, tmp_path):
    service = Service(data_root)
    model = hub_model(on_standin, tmp_path, "tiny")
    with pytest.raises(UserError, match="sign in with Hugging Face"):
        service.start("carol-key", data(tmp_path), settings(model), token=None)
    with pytest.raises(UserError, match="grant the 'jobs' permission"):
        service.start("carol-key", data(tmp_path), settings(model), token=CAROL)


def test_a_run_id_becomes_a_repo_name_the_hub_accepts():
    """A run id's random part may hold "--" or end in "-" (about one run in twenty): such a run's job could not start."""
    from huggingface_hub.utils import validate_repo_id

    for run_id in ("20261207-172711--vZUGKygdzPJzC5D", "20261207-172711-vZUG_-ygdzPJzC5-", "20261207-172711-abcdEFGH12345678"):
        name = f"alice/classitune-run-{repo_safe(run_id)}"
        validate_repo_id(name)
        assert "--" not in name and not name.endswith("-")
    assert repo_safe("20261207-172711-abcdEFGH12345678") == "20261207-172711-abcdEFGH12345678"  # most ids: as they are
