"""What crosses the seam between the service and the UI is typed (issue 28, 3): a run's status, the run list and a
batch job's status are dataclasses the tabs read by attribute, and the API's JSON stays what it was."""

from __future__ import annotations

import json

import pytest

from space.train_tab import progress_html
from trainer.runs.views import RunRow, RunStatus
from trainer.service import Service

pytestmark = pytest.mark.quick


@pytest.fixture
def service(data_root):
    return Service(data_root)


def test_a_running_run_reads_as_a_typed_status_and_the_api_keeps_its_json(service):
    run = service.store.create("alice", "reviews.csv", {"model": "auto", "method": "full"})
    service.store.set_state(run, "running", pid=12345)
    run.update_status(progress={"step": 30, "max_steps": 120, "epoch": 0.75, "elapsed_s": 41.0, "eta_s": 95.0},
                      phase="training")
    run.path("metrics.jsonl").write_text(json.dumps({"type": "eval", "step": 30, "accuracy": 0.81,
                                                     "macro_f1": 0.79}) + "\n")
    status = service.status(run.id, "alice")
    assert isinstance(status, RunStatus) and status.active and status.state == "running"
    assert (status.progress.step, status.progress.max_steps, status.progress.eta_s) == (30, 120, 95.0)
    assert status.fraction == 0.25 and status.latest_eval["accuracy"] == 0.81 and status.recommended is None
    shown = progress_html(status)
    assert "step 30/120" in shown and "ETA 95 s" in shown and "validation accuracy 0.810" in shown
    api = status.to_dict()
    assert api["run_id"] == run.id and api["progress"]["step"] == 30
    assert "owner" not in api and "pid" not in api  # the server's business, not the visitor's


def test_a_finished_runs_recommendation_and_the_users_choice_decide_the_model_in_use(service):
    run = service.store.create("alice", "reviews.csv", {"model": "auto"})
    recommended = {"model": "baseline", "message": "The quick baseline scored higher <b>here</b>."}
    service.store.set_state(run, "succeeded", best={"accuracy": 0.70, "macro_f1": 0.69},
                            baseline={"accuracy": 0.74, "macro_f1": 0.73}, recommended=recommended)
    status = service.status(run.id, "alice")
    assert status.model_in_use == "baseline" and status.recommended.message.startswith("The quick baseline")
    assert "&lt;b&gt;here&lt;/b&gt;" in progress_html(status)  # the message is escaped, as every text is
    assert service.choose(run.id, "alice", "tuned").model_in_use == "tuned"


def test_a_status_written_by_an_older_version_still_reads(service):
    """A run folder from before a key existed (no progress, no scores, no fraction) still shows."""
    run = service.store.create("bob", "old.csv", {"model": "default"})
    run.path("status.json").write_text(json.dumps({"state": "interrupted", "owner": "bob"}))
    status = service.status(run.id, "bob")
    assert status.state == "interrupted" and status.progress is None and status.best == {} and not status.active
    assert "interrupted" in progress_html(status)


def test_the_run_list_is_typed_and_names_each_run_by_its_score(service):
    first = service.store.create("carol", "tweets.csv", {"model": "default", "method": "setfit"})
    service.store.set_state(first, "succeeded", best={"accuracy": 0.9123, "macro_f1": 0.9})
    service.store.index(first)
    multi = service.store.create("carol", "comments.csv", {"model": "default", "method": "full", "task": "multi"})
    service.store.set_state(multi, "succeeded", best={"micro_f1": 0.61, "macro_f1": 0.433})
    service.store.index(multi)
    rows = service.list("carol")
    assert all(isinstance(r, RunRow) for r in rows) and [r.id for r in rows] == [multi.id, first.id]
    assert rows[1].headline == " acc 0.912" and rows[0].headline == " macro-F1 0.433"
    assert "owner" not in rows[0].to_dict() and service.list("dave") == []
