"""Batch prediction jobs on Hugging Face Jobs (trainer/batch/on_jobs.py), against the Hub stand-in's Jobs API
(jobs_standin.py): the real huggingface_hub client submits, inspects, reads logs and cancels; each job runs here as a
subprocess of ``python -m trainer batch-job-run``. Full tier (each job starts a Python with torch)."""

# ruff: noqa: F811 (the fixtures imported from test_batch are used as test arguments)
from __future__ import annotations

import pandas as pd
import pytest

from test_batch import ALICE, BOB, corpus, finished, no_active_job, small_chunks, trained, wait  # noqa: F401 (fixtures)
from trainer.errors import UserError

ALICE_TOKEN, CAROL_TOKEN = "hf_standin_write_alice", "hf_standin_write_carol"


def test_a_job_on_hugging_face_jobs_labels_the_file_there_and_brings_it_home(trained, tmp_path, on_standin, no_active_job):
    service, run = trained["service"], trained["run"]
    frame = corpus(3000)
    frame.to_csv(tmp_path / "texts.csv", index=False)
    job = service.start_batch(ALICE, f"tuned:{run.id}", str(tmp_path / "texts.csv"), "text", token=ALICE_TOKEN,
                              where="t4-small")
    assert job.where == "t4-small" and job.job_url, job
    remote = service.batch.job(job.job_id, ALICE).status()["remote"]
    status = wait(service, job.job_id, ALICE, finished, seconds=300)
    assert status.state == "succeeded", status
    assert status.rows_done == status.rows_total == 3000
    out = pd.read_csv(service.batch.result(job.job_id, ALICE))
    assert list(out["id"]) == list(frame["id"])  # every row, in order
    instant = service.predict(f"tuned:{run.id}", frame["text"].head(40).tolist(), ALICE, top_k=1)
    assert list(out["predicted_label"].head(40)) == [r["label"] for r in instant]  # the same model, read the same
    spec = on_standin.hub.jobs.jobs[remote["id"]]["spec"]
    assert spec["flavor"] == "t4-small" and spec["secrets"] == {"HF_TOKEN": ALICE_TOKEN}
    assert f"dataset:{remote['data_repo']}" not in on_standin.hub.repos  # the handed-over data was deleted
    assert ALICE_TOKEN not in "".join(p.read_text(errors="ignore") for p in service.batch.job(job.job_id, ALICE).dir
                                      .glob("*.json"))
    with pytest.raises(UserError, match="No batch job"):
        service.batch.status(job.job_id, BOB)


def test_cancel_cancels_the_job_on_jobs_and_a_failing_job_says_why(trained, tmp_path, on_standin, no_active_job):
    service, run = trained["service"], trained["run"]
    corpus(60_000).to_parquet(tmp_path / "big.parquet")
    job = service.start_batch(ALICE, f"tuned:{run.id}", str(tmp_path / "big.parquet"), "text", token=ALICE_TOKEN,
                              where="cpu-upgrade")
    remote = service.batch.job(job.job_id, ALICE).status()["remote"]
    wait(service, job.job_id, ALICE, lambda s: s.rows_done > 0 or finished(s), seconds=300)
    assert service.batch.cancel(job.job_id, ALICE).state == "cancelled"
    assert on_standin.hub.jobs.jobs[remote["id"]]["stage"] == "CANCELED"
    corpus(100).to_csv(tmp_path / "other.csv", index=False)
    job = service.start_batch(ALICE, f"tuned:{run.id}", str(tmp_path / "other.csv"), "body", token=ALICE_TOKEN,
                              where="cpu-upgrade")
    status = wait(service, job.job_id, ALICE, finished, seconds=300)
    assert status.state == "failed" and "The job on Hugging Face Jobs failed" in status.error
    assert "No column 'body'" in status.error  # the job's own error, in words


def test_jobs_need_the_users_own_permission(trained, tmp_path, on_standin, no_active_job):
    service, run = trained["service"], trained["run"]
    corpus(100).to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(UserError, match="sign in with Hugging Face"):
        service.start_batch(ALICE, run.id, str(tmp_path / "t.csv"), "text", where="t4-small")
    with pytest.raises(UserError, match="grant the 'jobs' permission"):
        service.start_batch(ALICE, run.id, str(tmp_path / "t.csv"), "text", token=CAROL_TOKEN, where="t4-small")
    assert service.batch.list(ALICE)[0].state == "failed"  # refused by the Hub: the job says so, nothing is left queued
    with pytest.raises(UserError, match="not one of: here, cpu-upgrade"):
        service.start_batch(ALICE, run.id, str(tmp_path / "t.csv"), "text", token=ALICE_TOKEN, where="moon")
