"""Batch prediction jobs (trainer/batch/): a whole file classified by a worker process, in order, resumable,
one job per user, cancellable; the same from the command line. A tiny model stands in for speed."""

from __future__ import annotations

import os
import signal
import time

import pandas as pd
import pytest

from conftest import ROOT
from tiny import tiny_classifier
from trainer.config import TrainConfig
from trainer.batch.spec import BatchStatus
from trainer.errors import UserError
from trainer.service import Service

pytestmark = pytest.mark.quick  # the quick tier (README: Tests)

ALICE, BOB = "hf:alice", "hf:bob"
CHUNK = 512  # smaller parts than the default's 2,048: a restart test needs several parts of a small job


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setenv("CLASSITUNE_BATCH_CHUNK_ROWS", str(CHUNK))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished run of the tiny model on two Banking77 labels, and its Service."""
    from trainer.runs.start import prepare_run, write_run
    from trainer.runs.worker import train_prepared

    folder = tmp_path_factory.mktemp("batch")
    frame = pd.read_csv(ROOT / "assets" / "banking77_sample.csv")
    frame = frame[frame["label"].isin(frame["label"].unique()[:2])].groupby("label").head(12)
    frame.to_csv(folder / "two.csv", index=False)
    service = Service(folder / "root")
    config = TrainConfig(model=str(tiny_classifier(folder / "tiny")), method="full", epochs=1, max_length=32)
    prepared = prepare_run(folder / "two.csv", config)  # as the command line does (the app takes no local folders)
    run = service.store.create(ALICE, prepared.dataset, prepared.config.to_dict())
    write_run(run, prepared)
    train_prepared(run, service.store)
    assert run.status()["state"] == "succeeded"
    return {"service": service, "run": run, "folder": folder, "labels": run.labels()}


def corpus(rows: int) -> pd.DataFrame:
    words = "the card has arrived my film was good bad not dull great movie".split()
    return pd.DataFrame({"id": range(rows), "text": [" ".join(words[(i * 7 + k) % len(words)] for k in range(1 + i % 9))
                                                     for i in range(rows)]})


def wait(service: Service, job_id: str, owner: str, until, seconds: float = 240) -> BatchStatus:
    deadline = time.time() + seconds
    while time.time() < deadline:
        service.batch.tick()  # the watcher's work, done here too (the test may have stopped the watcher)
        status = service.batch.status(job_id, owner)
        if until(status):
            return status
        time.sleep(0.2)
    raise AssertionError(f"job never reached the state: {status}")


def finished(status: BatchStatus) -> bool:
    return status.state in ("succeeded", "failed", "cancelled")


def test_a_job_labels_every_row_in_order_in_the_input_format_and_matches_predict(trained, tmp_path):
    service, run = trained["service"], trained["run"]
    frame = corpus(5000)
    frame.to_parquet(tmp_path / "texts.parquet")
    job = service.start_batch(ALICE, run.id, str(tmp_path / "texts.parquet"), "text")
    status = wait(service, job.job_id, ALICE, finished)
    assert status.state == "succeeded", status
    assert status.rows_done == status.rows_total == 5000
    out = pd.read_parquet(service.batch.result(job.job_id, ALICE))
    assert list(out["id"]) == list(frame["id"]) and list(out["text"]) == list(frame["text"])
    assert set(out["predicted_label"]) <= set(trained["labels"]) and out["score"].between(0, 1).all()
    instant = service.predict(run.id, frame["text"].head(50).tolist(), ALICE, top_k=1)
    with pytest.raises(UserError, match="No Hugging Face token"):  # pushing needs the caller's own token
        service.batch.push(job.job_id, ALICE, "alice/predictions", None)
    with pytest.raises(UserError, match="needs a namespace"):
        service.batch.push(job.job_id, ALICE, "predictions", "hf_x")
    assert list(out["predicted_label"].head(50)) == [r["label"] for r in instant]
    # a semicolon-delimited CSV comes back as one, with its own columns first
    frame.head(300).rename(columns={"text": "comment"}).to_csv(tmp_path / "semi.csv", sep=";", index=False)
    job = service.start_batch(ALICE, run.id, str(tmp_path / "semi.csv"), "comment")
    assert wait(service, job.job_id, ALICE, finished).state == "succeeded"
    path = service.batch.result(job.job_id, ALICE)
    assert path.name == "semi-predictions.csv" and path.read_text().splitlines()[0] == "id;comment;predicted_label;score"


def test_a_wrong_column_fails_with_the_columns_and_a_file_type_is_refused_up_front(trained, tmp_path):
    service, run = trained["service"], trained["run"]
    corpus(20).to_csv(tmp_path / "t.csv", index=False)
    job = service.start_batch(ALICE, run.id, str(tmp_path / "t.csv"), "body")
    status = wait(service, job.job_id, ALICE, finished)
    assert status.state == "failed" and "No column 'body'" in status.error and "id, text" in status.error
    (tmp_path / "t.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(UserError, match="CSV, TSV, JSON Lines, Parquet or plain text"):
        service.start_batch(ALICE, run.id, str(tmp_path / "t.pdf"), "text")


def test_a_restart_mid_job_resumes_without_recomputing_finished_chunks(trained, tmp_path):
    service, run = trained["service"], trained["run"]
    frame = corpus(12_000)
    frame.to_parquet(tmp_path / "big.parquet")
    job_id = service.start_batch(ALICE, run.id, str(tmp_path / "big.parquet"), "text").job_id
    status = wait(service, job_id, ALICE, lambda s: s.rows_done >= 3 * CHUNK or finished(s))
    assert status.state == "running", status
    job = service.batch.job(job_id, ALICE)
    os.killpg(job.status()["pid"], signal.SIGKILL)  # the machine goes away mid-job
    time.sleep(0.5)
    parts = {p.name: p.stat().st_mtime_ns for p in job.path("parts").glob("*.parquet")}
    assert parts
    restarted = Service(service.store.root)  # a new app process finds the job and resumes it
    status = wait(restarted, job_id, ALICE, finished, seconds=400)
    assert status.state == "succeeded" and status.resumed_chunks >= len(parts) and status.attempts == 2
    assert all(job.path("parts").joinpath(name).stat().st_mtime_ns == mtime for name, mtime in parts.items())
    out = pd.read_parquet(restarted.batch.result(job_id, ALICE))
    assert list(out["id"]) == list(frame["id"])


def test_one_job_per_user_others_wait_their_turn_cannot_see_it_and_cancel_stops_it(trained, tmp_path):
    service, run = trained["service"], trained["run"]
    corpus(12_000).to_parquet(tmp_path / "big.parquet")
    first = service.start_batch(ALICE, run.id, str(tmp_path / "big.parquet"), "text").job_id
    with pytest.raises(UserError, match="one batch job per user"):
        service.start_batch(ALICE, run.id, str(tmp_path / "big.parquet"), "text")
    for call in (service.batch.status, service.batch.cancel, service.batch.result):
        with pytest.raises(UserError, match="No batch job"):
            call(first, BOB)
    base = f"base:{run.id}"
    with pytest.raises(UserError, match="not found|No run"):  # Bob cannot use Alice's run either
        service.start_batch(BOB, base, str(tmp_path / "big.parquet"), "text")
    wait(service, first, ALICE, lambda s: s.state == "running")
    status = service.batch.cancel(first, ALICE)
    assert status.state == "cancelled"
    time.sleep(1.5)
    assert service.batch.status(first, ALICE).state == "cancelled"
    assert service.start_batch(ALICE, base, str(tmp_path / "big.parquet"), "text").state in ("queued", "running")


def test_the_command_line_runs_and_resumes_a_job_folder(trained, tmp_path, capsys):
    from trainer.cli import main

    corpus(3000).to_csv(tmp_path / "texts.tsv", sep="\t", index=False)
    job = tmp_path / "job"
    assert main(["batch-predict", "--job", str(job), "--input", str(tmp_path / "texts.tsv"),
                 "--model", str(trained["run"].dir)]) == 0
    out = pd.read_csv(job / "texts-predictions.tsv", sep="\t")
    assert len(out) == 3000 and set(out["predicted_label"]) <= set(trained["labels"])
    assert main(["batch-predict", "--job", str(job)]) == 0  # again: every chunk is there, nothing is recomputed
    assert "resuming: 6 of 6 chunks were done before" in capsys.readouterr().out


@pytest.fixture
def no_active_job(trained):
    """The module's earlier tests may leave Alice a job running: one job per user, so it is cancelled first."""
    service = trained["service"]
    for job in service.batch.list(ALICE):
        if job.active:
            service.batch.cancel(job.job_id, ALICE)


def test_a_finished_jobs_folder_is_deleted_after_the_keep_time_and_a_recent_one_is_kept(trained, tmp_path,
                                                                                          monkeypatch, no_active_job):
    service, run = trained["service"], trained["run"]
    corpus(50).to_csv(tmp_path / "t.csv", index=False)
    old = service.start_batch(ALICE, run.id, str(tmp_path / "t.csv"), "text")
    assert wait(service, old.job_id, ALICE, finished).state == "succeeded"
    recent = service.start_batch(ALICE, run.id, str(tmp_path / "t.csv"), "nope")  # fails (no such column) now
    wait(service, recent.job_id, ALICE, finished)
    folder = service.batch.job(old.job_id, ALICE).dir
    monkeypatch.setenv("CLASSITUNE_BATCH_KEEP_HOURS", "1")
    ended = folder / "status.json"
    os.utime(ended, (time.time() - 7200, time.time() - 7200))  # ended two hours ago
    service.batch.tick()
    assert not folder.exists() and old.job_id not in [j.job_id for j in service.batch.list(ALICE)]
    assert service.batch.status(recent.job_id, ALICE).state == "failed"  # ended just now: kept
