"""Runs as separate processes: queue, cancel, a killed worker, an app restart mid-run, resume, registry rebuild."""

import json
import logging
from collections import Counter
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from trainer.config import TrainConfig
from trainer.errors import UserError
from trainer.runs.store import Run
from trainer.service import Service

EXAMPLE = str(ROOT / "assets" / "banking77_sample.csv")


@pytest.fixture
def tiny(tiny_model, monkeypatch):
    """These tests are about processes (queue, cancel, kill, restart), not learning: TrainConfig on the tiny model;
    "long" runs enough epochs to be cancelled while they train. (The app takes no
    local folders from visitors, tested in test_security.py; here the tiny folder stands in for a Hub id.)"""
    monkeypatch.setattr("trainer.service.check_remote_model", lambda name: None)
    def config(long: bool = False, **settings) -> TrainConfig:
        return TrainConfig(model=tiny_model, method="full", max_length=32, **({"epochs": 100, "batch_size": 4} if long else {}),
                           **settings)
    return config


def wait(run: Run, predicate, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = run.status()
        if predicate(status):
            return status
        time.sleep(0.2)
    raise AssertionError(f"timed out; last status: {run.status()}")


def training(status):
    return status.get("state") == "running" and status.get("phase") == "training"


@pytest.fixture
def service(data_root, monkeypatch):
    monkeypatch.setenv("CLASSITUNE_MAX_CONCURRENT_RUNS", "1")
    return Service(data_root)


def test_queue_and_cancel(service, tiny):
    first = service.start("alice", EXAMPLE, tiny(long=True))
    second = service.start("alice", EXAMPLE, tiny(epochs=1))
    wait(first, lambda s: training(s) and first.metrics())
    status = service.status(second.id, "alice")
    assert status.state == "queued" and status.queue_position == 0
    with pytest.raises(UserError, match=r"already have 2 runs queued or running.*cancel one"):
        service.start("alice", EXAMPLE, tiny(epochs=1))  # one visitor cannot fill the shared queue
    assert len(service.list("alice")) == 2  # refused before anything was written

    started = time.time()
    assert service.cancel(second.id, "alice").state == "cancelled"
    status = service.cancel(first.id, "alice")
    assert status.state == "cancelled" and time.time() - started < 10
    assert "Cancelled" in status.error
    assert any(e["type"] == "train" for e in first.metrics())  # metrics up to the cancel are kept
    pid = first.status()["pid"]
    time.sleep(0.5)
    assert not os.path.exists(f"/proc/{pid}") or b"worker" not in open(f"/proc/{pid}/cmdline", "rb").read()


def test_standby_worker_takes_runs_and_ends_with_the_app(data_root, monkeypatch, tiny):
    """Start hands the run to the ready standby worker (no Python start-up); cancel reaches it; a new one replaces it."""
    monkeypatch.setenv("CLASSITUNE_MAX_CONCURRENT_RUNS", "1")
    service = Service(data_root, standby=True)
    supervisor = service.supervisor
    standby = wait_for(lambda: supervisor._standby)
    run = service.start("erin", EXAMPLE, tiny(long=True))
    assert run.status()["pid"] == standby.pid
    wait(run, lambda s: training(s) and run.metrics())
    assert "→ training" in run.path("train.log").read_text()  # the standby's output goes to the run's log
    assert service.cancel(run.id, "erin").state == "cancelled"
    assert standby.wait(timeout=10) == 130

    replacement = wait_for(lambda: supervisor._standby)  # started again once nothing trains
    assert replacement.pid != standby.pid
    again = service.start("erin", EXAMPLE, TrainConfig(epochs=1, evals_per_epoch=1))  # it learns
    assert again.status()["pid"] == replacement.pid
    status = wait(again, lambda s: s["state"] in ("succeeded", "failed"), timeout=300)
    assert status["state"] == "succeeded" and status["best"]["accuracy"] > 0.5

    idle = wait_for(lambda: supervisor._standby if supervisor._standby is not replacement else None)
    idle.stdin.close()  # what the app's exit does to it
    assert idle.wait(timeout=60) == 0


def test_a_standby_that_crashes_on_start_up_falls_back_to_fresh_workers(data_root, monkeypatch, caplog, tiny):
    import trainer.runs.supervisor as supervisor_module

    real_worker = supervisor_module._worker

    def broken_standby(command, **streams):
        if command == ["standby"]:  # as if its imports failed
            return subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"], **streams)
        return real_worker(command, **streams)

    monkeypatch.setattr(supervisor_module, "_worker", broken_standby)
    caplog.set_level(logging.WARNING, logger="classitune")  # whatever level an earlier test left the root at
    service = Service(data_root, standby=True)
    wait_for(lambda: "standby worker exited with code 3" in caplog.text, timeout=30)
    assert not service.supervisor.standby
    run = service.start("gus", EXAMPLE, tiny(long=True))
    assert b"worker" in open(f"/proc/{run.status()['pid']}/cmdline", "rb").read()
    wait(run, lambda s: s["state"] == "running")
    assert service.cancel(run.id, "gus").state == "cancelled"


def wait_for(get, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if value := get():
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_killed_worker_is_failed_and_app_keeps_going(service, tiny):
    run = service.start("bob", EXAMPLE, tiny(long=True))
    status = wait(run, training)
    os.kill(status["pid"], signal.SIGKILL)
    status = wait(run, lambda s: s["state"] == "failed", timeout=15)
    assert "killed (SIGKILL)" in status["error"] and "smaller batch size" in status["error"]
    assert service.list("bob")[0].state == "failed"
    again = service.start("bob", EXAMPLE, tiny(epochs=1, evals_per_epoch=1))
    assert wait(again, lambda s: s["state"] in ("succeeded", "failed"), timeout=300)["state"] == "succeeded"


def test_interrupted_by_app_restart_then_resumed(data_root):
    """A worker dies while no app watches it; the next app start marks it interrupted; resume finishes it."""
    run = Service(data_root).prepare("carol", EXAMPLE, TrainConfig(epochs=2, evals_per_epoch=4))
    worker = subprocess.Popen([sys.executable, "-m", "trainer", "worker", "--run-dir", str(run.dir)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait(run, lambda s: list(run.dir.glob("checkpoints/checkpoint-*/trainer_state.json")) and training(s), timeout=180)
    steps_before = max(e["step"] for e in run.metrics())
    worker.kill()
    worker.wait()

    restarted = Service(data_root)
    assert run.status()["state"] == "interrupted" and "Resume" in run.status()["error"]
    restarted.resume(run.id, "carol")
    status = wait(run, lambda s: s["state"] in ("succeeded", "failed"), timeout=300)
    assert status["state"] == "succeeded", status.get("error")
    steps = [e["step"] for e in run.metrics() if e["type"] == "train"]
    assert steps == sorted(steps) and steps[-1] >= steps_before  # continued, no duplicated steps
    assert (run.model_dir / "model.safetensors").exists()

    legacy = {k: v for k, v in run.config().items() if k not in ("pooling", "head_init")}  # as earlier versions wrote
    run.path("config.json").write_text(json.dumps(legacy))
    run.update_status(state="interrupted")
    with pytest.raises(UserError, match="earlier version of ClassiTune.*start it again"):
        restarted.resume(run.id, "carol")


def test_registry_rebuilds_from_run_directories(service, data_root, tiny):
    run = service.start("dave", EXAMPLE, tiny(long=True))
    service.cancel(run.id, "dave")
    before = service.list("dave")
    (data_root / "registry.sqlite").unlink()
    for leftover in data_root.glob("registry.sqlite-*"):
        leftover.unlink()
    assert Service(data_root).list("dave") == before  # a missing registry is rebuilt at start-up


def test_recovery_trusts_the_run_directory_over_the_registry(data_root):
    """A worker that wrote "succeeded" and died before the registry heard of it: the run stays succeeded."""
    run = Service(data_root).prepare("hana", EXAMPLE, TrainConfig(epochs=1))
    run.update_status(state="succeeded", pid=999999)  # status.json only, as the dying worker left it
    assert Service(data_root).store.list("hana")[0]["state"] == "succeeded"
    assert run.status()["state"] == "succeeded"


def test_status_of_a_damaged_run_directory(service, tiny):
    run = service.start("erin", EXAMPLE, tiny(long=True))
    service.cancel(run.id, "erin")
    run.path("status.json").write_text("{not json")
    status = service.status(run.id, "erin")  # the owner comes from the registry when status.json is unreadable
    assert status.state == "failed" and "damaged" in status.error
    with pytest.raises(UserError, match="not found among your runs"):
        service.status(run.id, "mallory")
    fresh = service.start("erin", EXAMPLE, tiny(epochs=1))  # the damaged run does not stop new ones
    assert wait(fresh, lambda s: s["state"] in ("succeeded", "failed"), timeout=300)["state"] == "succeeded"


def test_disk_full_during_a_save_fails_cleanly(service, data_root):
    """The worker may write at most 40 MB per file (RLIMIT_FSIZE: writes past it fail like a full disk)."""
    import resource

    earlier = service.start("frank", EXAMPLE, TrainConfig(epochs=50))
    service.cancel(earlier.id, "frank")
    run = service.prepare("frank", EXAMPLE, TrainConfig(epochs=1))

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (40 * 2**20, 40 * 2**20))

    worker = subprocess.Popen([sys.executable, "-m", "trainer", "worker", "--run-dir", str(run.dir)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=small_disk)
    worker.wait(timeout=300)
    status = run.status()
    assert status["state"] == "failed" and "Ran out of disk space while saving" in status["error"], status
    assert not [p for p in run.dir.glob("checkpoints/checkpoint-*") if not (p / "trainer_state.json").exists()]
    assert [r.state for r in service.list("frank")] == ["failed", "cancelled"]  # history intact
    assert earlier.status()["state"] == "cancelled" and earlier.path("data/train.parquet").exists()


def test_waiting_runs_cost_no_process_and_users_take_turns(service, monkeypatch, tiny):
    """Issue 12: one visitor's queued runs hold no worker process and do not push another user's run back."""
    monkeypatch.setenv("CLASSITUNE_MAX_RUNS_PER_USER", "3")
    first = service.start("alice", EXAMPLE, tiny(long=True))
    wait(first, lambda s: s["state"] in ("queued", "running") and s.get("pid"))
    later = [service.start("alice", EXAMPLE, tiny(epochs=1)) for _ in range(2)]
    bob = service.start("bob", EXAMPLE, tiny(epochs=1))
    for run in [*later, bob]:
        assert run.status()["state"] == "queued" and not run.status().get("pid")  # a directory, not a process
    positions = {run.id: service.status(run.id, run.status()["owner"]).queue_position for run in [*later, bob]}
    assert positions == {bob.id: 0, later[0].id: 1, later[1].id: 2}  # bob goes before alice's second and third
    for run in later:  # cancelling a waiting run is immediate and starts nothing
        assert service.cancel(run.id, "alice").state == "cancelled"
    assert service.status(bob.id, "bob").queue_position == 0
    service.cancel(first.id, "alice")
    status = wait(bob, lambda s: s["state"] in ("running", "succeeded"), timeout=60)  # its turn came
    assert status.get("pid") and all(r.status()["state"] == "cancelled" for r in later)
    service.cancel(bob.id, "bob")


def test_fair_order_and_run_time_cap(monkeypatch):
    from trainer.runs.queue import check_run_time, fair_order

    rows = [{"id": f"r{i}", "owner": owner, "created": i} for i, owner in enumerate("aaab")]
    assert [r["id"] for r in fair_order(rows, Counter())] == ["r0", "r3", "r1", "r2"]
    assert [r["id"] for r in fair_order(rows, Counter(a=1))] == ["r3", "r0", "r1", "r2"]
    check_run_time(10 ** 6)  # no cap unless the operator sets one
    monkeypatch.setenv("CLASSITUNE_MAX_RUN_MINUTES", "30")
    check_run_time(29 * 60)
    with pytest.raises(UserError, match=r"about 45 minutes; this Space allows at most 30 minutes per run"):
        check_run_time(45 * 60)


def test_an_operator_caps_the_estimated_run_time(service, monkeypatch, tiny):
    monkeypatch.setenv("CLASSITUNE_MAX_RUN_MINUTES", "0.01")
    with pytest.raises(UserError, match="allows at most 0.01 minutes per run"):
        service.start("ivan", EXAMPLE, tiny(long=True))
    assert service.list("ivan") == []  # refused before anything was written


def test_one_gpu_per_worker_and_one_slot_per_gpu(data_root, monkeypatch, tiny):
    """Issue 15: on a 2-GPU machine two runs train at once, each worker seeing only its own GPU (so Trainer
    never wraps it in DataParallel), and a third waits. (CPU here: the GPU ids are what the workers are given.)"""
    monkeypatch.delenv("CLASSITUNE_MAX_CONCURRENT_RUNS", raising=False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    service = Service(data_root)
    runs = [service.start(owner, EXAMPLE, tiny(long=True)) for owner in ("kim", "lee", "kim")]
    for run in runs[:2]:
        wait(run, lambda s: s["state"] == "running")  # both at once: each holds a slot of its own
    assert {runs[0].status()["gpu"], runs[1].status()["gpu"]} == {"0", "1"}
    for run in runs[:2]:
        environ = open(f"/proc/{run.status()['pid']}/environ", "rb").read().split(b"\0")
        assert f"CUDA_VISIBLE_DEVICES={run.status()['gpu']}".encode() in environ
    assert not runs[2].status().get("pid") and service.status(runs[2].id, "kim").queue_position == 0
    for run, owner in zip(runs, ("kim", "lee", "kim")):
        service.cancel(run.id, owner)


def _bump(run_dir: str, key: str, times: int) -> None:
    run = Run(Path(run_dir))
    for _ in range(times):
        run.update_status(**{key: run.status().get(key, 0) + 1})


def test_status_updates_from_two_processes_are_never_lost(tmp_path):
    """Issue 15: the app and the worker both update status.json; each change survives the other's."""
    import multiprocessing

    run = Run(tmp_path / "run")
    run.dir.mkdir()
    run.update_status(state="running")
    workers = [multiprocessing.get_context("spawn").Process(target=_bump, args=(str(run.dir), key, 150))
               for key in ("app", "worker")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    status = run.status()
    assert status["state"] == "running" and status.get("app") == status.get("worker") == 150


def test_a_data_parallel_run_takes_two_gpu_slots_and_cancel_stops_every_process(data_root, monkeypatch, tiny):
    """Issue 15: data-parallel only when asked (gpus=2): accelerate launch with 2 processes over both slots, one
    run, one writer; cancel stops the launcher and both ranks; the next run then gets its turn. A run asking for
    more GPUs than the machine has is refused at Start. (CPU processes standing in for GPUs.)"""
    monkeypatch.delenv("CLASSITUNE_MAX_CONCURRENT_RUNS", raising=False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    service = Service(data_root)
    with pytest.raises(UserError, match="asks for 3 GPUs; this machine has 2 GPUs"):
        service.start("mia", EXAMPLE, tiny(gpus=3))
    run = service.start("mia", EXAMPLE, tiny(long=True, gpus=2))
    waiting = service.start("noa", EXAMPLE, tiny(epochs=1))
    status = wait(run, training)
    assert status["gpu"] == "0,1" and status["config_resolved"]["world_size"] == 2
    assert not waiting.status().get("pid") and len(service.list("mia")) == 1  # no slot left; 2 processes, 1 run

    def processes_of_run():
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and str(run.dir).encode() in (entry / "cmdline").read_bytes():
                    found.append(entry.name)
            except OSError:
                continue
        return found

    assert len(processes_of_run()) >= 3  # the launcher and one process per GPU
    launcher = (Path("/proc") / str(run.status()["pid"]) / "cmdline").read_bytes()
    assert b"accelerate" in launcher  # the recorded pid is the launcher's, whose group cancel signals
    assert service.cancel(run.id, "mia").state == "cancelled"
    assert processes_of_run() == [] or wait_for(lambda: not processes_of_run(), timeout=20)
    assert wait(waiting, lambda s: s.get("pid") or s["state"] != "queued", timeout=60)  # its turn came
    service.cancel(waiting.id, "noa")
