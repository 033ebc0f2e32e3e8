"""Fair shares on a public app (trainer/queue.py, trainer/service.py): who may train, how many runs and minutes
one person may book, concurrent Starts, and the per-run time cap while a run trains. Quick tier: no run trains
(the supervisor's launch is replaced), except through the callback the training loop calls."""

from __future__ import annotations

import threading
import time

import pytest

from conftest import ROOT
from trainer.config import TrainConfig
from trainer.errors import UserError
from trainer.service import Service

pytestmark = pytest.mark.quick  # the quick tier (README: Tests)

EXAMPLE = str(ROOT / "assets" / "banking77_sample.csv")
CPU = {"device": "cpu", "name": "CPU", "memory_gb": None, "cpu_cores": 2, "bf16": False, "gpu_count": 0}
GPU = {"device": "cuda", "name": "NVIDIA H100", "memory_gb": 80.0, "cpu_cores": 16, "bf16": True, "gpu_count": 1}


@pytest.fixture
def service(data_root, monkeypatch):
    """A service whose runs are prepared and registered but never handed to a worker."""
    svc = Service(data_root)
    svc.__dict__["hardware"] = CPU
    monkeypatch.setattr(svc.supervisor, "start", lambda run, resume=False: None)  # never submitted: no worker
    return svc


def test_concurrent_starts_cannot_exceed_the_per_user_cap(service, monkeypatch):
    monkeypatch.setenv("CLASSITUNE_MAX_RUNS_PER_USER", "2")
    results = []

    def start():
        try:
            results.append(service.start("hf:eve", EXAMPLE, TrainConfig(epochs=1)).id)
        except UserError as exc:
            results.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    started = [r for r in results if isinstance(r, str)]
    assert len(results) == 6 and len(started) == 2, results
    assert all("the most one user may have at once (2)" in str(r) for r in results if not isinstance(r, str))


def test_public_app_trains_signed_in_users_and_pools_anonymous_visitors(service, monkeypatch):
    monkeypatch.setenv("CLASSITUNE_PUBLIC", "1")
    monkeypatch.setenv("CLASSITUNE_MAX_RUNS_PER_USER", "2")
    with pytest.raises(UserError, match="Sign in with Hugging Face"):
        service.start("browser:abc", EXAMPLE, TrainConfig(epochs=1))
    assert service.list("browser:abc") == []
    monkeypatch.setenv("CLASSITUNE_ANONYMOUS_TRAINING", "1")
    service.start("browser:one", EXAMPLE, TrainConfig(epochs=1))
    service.start("session:two", EXAMPLE, TrainConfig(epochs=1))
    with pytest.raises(UserError, match="Visitors who are not signed in together have 2 runs"):
        service.start("browser:three", EXAMPLE, TrainConfig(epochs=1))  # a new session is not a new share
    assert service.start("hf:alice", EXAMPLE, TrainConfig(epochs=1)).id  # a signed-in user has a share of her own


def test_anonymous_sessions_take_one_turn_in_the_queue(monkeypatch):
    from collections import Counter

    from trainer.runs.queue import fair_order

    monkeypatch.setenv("CLASSITUNE_PUBLIC", "1")
    waiting = [{"id": f"r{i}", "owner": f"browser:{i}", "created": i} for i in range(5)]
    waiting.append({"id": "victim", "owner": "hf:victim", "created": 9})
    order = [row["id"] for row in fair_order(waiting, Counter())]
    assert order.index("victim") == 1, order  # five sessions are one visitor: the victim goes second, not sixth


def test_a_run_with_no_measured_speed_is_capped_on_a_cautious_estimate(service, monkeypatch):
    """No speed was measured for the default model on a GPU: the cap still applies, on a cautious figure."""
    service.__dict__["hardware"] = GPU
    monkeypatch.setenv("CLASSITUNE_MAX_RUN_MINUTES", "1")
    with pytest.raises(UserError, match="allows at most 1 minutes per run"):
        service.start("hf:eve", EXAMPLE, TrainConfig(epochs=100))
    assert service.list("hf:eve") == []
    run = service.start("hf:eve", EXAMPLE, TrainConfig(method="full", epochs=1, max_length=32))
    assert 0 < run.status()["estimate_seconds"] <= 60


def test_one_user_cannot_book_more_than_their_minutes(service, monkeypatch):
    monkeypatch.setenv("CLASSITUNE_MAX_USER_MINUTES", "3")
    monkeypatch.setenv("CLASSITUNE_MAX_RUNS_PER_USER", "10")
    booked = 0.0
    with pytest.raises(UserError, match="one user may book at most 3 minutes"):
        for _ in range(10):
            booked += service.start("hf:eve", EXAMPLE, TrainConfig(epochs=3)).status()["estimate_seconds"]
    assert 0 < booked <= 180
    assert service.start("hf:other", EXAMPLE, TrainConfig(epochs=3))  # another user's share is untouched


def test_a_run_past_the_time_cap_stops_and_keeps_its_model(tmp_path, monkeypatch):
    """The training loop's callback: past CLASSITUNE_MAX_RUN_MINUTES it asks for stop-and-keep and says why."""
    from transformers import TrainerControl, TrainerState, TrainingArguments

    from trainer.training.run_progress import Reporter, make_callback
    from trainer.runs.store import STOP_REQUEST, Run

    run = Run(tmp_path / "run")
    run.dir.mkdir()
    run.update_status(state="running")
    monkeypatch.setenv("CLASSITUNE_MAX_RUN_MINUTES", "1")
    args = TrainingArguments(output_dir=str(tmp_path / "out"), use_cpu=True, report_to=[])
    state, control = TrainerState(global_step=5, max_steps=100), TrainerControl()
    make_callback(Reporter(run, None, False), 16, time.time() - 30, ("accuracy",)).on_step_end(args, state, control)
    assert not control.should_training_stop and not run.path(STOP_REQUEST).exists()  # within the cap
    make_callback(Reporter(run, None, False), 16, time.time() - 61, ("accuracy",)).on_step_end(args, state, control)
    assert control.should_training_stop and control.should_save and run.path(STOP_REQUEST).exists()
    assert run.status()["stopped_by_time_cap"] is True
    assert "allows at most 1 minutes per run" in " ".join(run.activity(5))
