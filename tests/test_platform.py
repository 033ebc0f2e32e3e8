"""The platform: precision follows what the GPU does natively, speed and ETA count this process's steps, scratch
files are pruned."""

from types import SimpleNamespace

import pytest
import torch

from trainer.runs.hardware import detect, precision_for

pytestmark = pytest.mark.quick  # the quick tier (README: Tests)


@pytest.mark.parametrize("name, capability, expected", [
    ("Tesla T4", (7, 5), "fp16"), ("Tesla V100-SXM2-16GB", (7, 0), "fp16"),
    ("NVIDIA A10G", (8, 6), "bf16"), ("NVIDIA L4", (8, 9), "bf16"),
    ("NVIDIA A100-SXM4-40GB", (8, 0), "bf16"), ("NVIDIA H100 80GB HBM3", (9, 0), "bf16"),
])
def test_bf16_only_where_the_gpu_has_it_natively(monkeypatch, name, capability, expected):
    monkeypatch.delenv("SM_NUM_GPUS", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)  # what emulation answers
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device=None: SimpleNamespace(
        name=name, total_memory=16 * 1024**3))
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    hw = detect()
    assert precision_for(hw) == expected
    assert ("loss scaling" in hw.describe()) == (expected == "fp16") and f"trains in {expected}" in hw.describe()
    assert precision_for(hw, "fp32") == "fp32"  # a user's choice stands


def test_a_resumed_run_reports_the_speed_of_its_own_steps(monkeypatch):
    """Resumed at step 100 of 200: 10 steps in 2 s is 5 steps/s (ETA 18 s), not 110 steps' worth of speed."""
    from trainer.training import run_progress

    clock = [1000.0]
    monkeypatch.setattr(run_progress.time, "time", lambda: clock[0])
    events, progress = [], []
    reporter = SimpleNamespace(event=events.append, progress=lambda p, force=False: progress.append(p),
                               run=SimpleNamespace(metrics=lambda: [{"step": 100, "train_s": 30.0}]))
    callback = run_progress.make_callback(reporter, batch=16, started=900.0)
    state = SimpleNamespace(global_step=100, max_steps=200, epoch=1.0)
    callback.on_train_begin(None, state, None)
    clock[0], state.global_step = 1002.0, 110
    callback.on_log(None, state, None, logs={"loss": 0.5, "learning_rate": 1e-4})
    assert events[-1]["samples_per_second"] == 10 * 16 / 2.0  # one process: world size 1
    assert events[-1]["eta_s"] == 90 / 5.0 and events[-1]["elapsed_s"] == 102.0
    assert events[-1]["train_s"] == 32.0  # training time over both processes: 30 s before the checkpoint, 2 s now


def test_scratch_folders_older_than_the_limit_are_pruned(monkeypatch, tmp_path):
    """Downloads and Hub datasets written for visitors do not pile up on a long-running Space."""
    import os
    import time

    from space import scratch

    monkeypatch.setattr(scratch.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setenv("CLASSITUNE_SCRATCH_HOURS", "1")
    old, recent = scratch.new_folder("predictions"), scratch.new_folder("hub")
    (old / "predictions.csv").write_text("text,label\n")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    fresh = scratch.new_folder("label-errors")  # each new folder prunes first
    assert not old.exists() and recent.exists() and fresh.exists()



def test_scratch_folders_past_the_size_limit_go_oldest_first(monkeypatch, tmp_path):
    """Issue 32.8: many clicks on "Fix the data" within the age limit cannot fill the disk."""
    import os
    import time

    from space import scratch

    monkeypatch.setattr(scratch.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setenv("CLASSITUNE_SCRATCH_MB", "1")
    folders = []
    for age in (300, 200, 100):
        folder = scratch.new_folder("fixed")
        (folder / "copy.csv").write_bytes(b"x" * 400_000)
        os.utime(folder, (time.time() - age, time.time() - age))
        folders.append(folder)
    newest = scratch.new_folder("fixed")  # 1.2 MB in all: the oldest goes
    assert not folders[0].exists() and folders[1].exists() and folders[2].exists() and newest.exists()


def test_a_space_without_a_storage_volume_says_runs_are_temporary(monkeypatch):
    """Issue 15: Spaces dropped /data disks; with no mounted bucket, runs vanish at a restart, and the app says so."""
    import os

    from trainer.runs.store import storage_note

    monkeypatch.delenv("CLASSITUNE_DATA_ROOT", raising=False)
    monkeypatch.delenv("SPACE_ID", raising=False)
    assert storage_note() is None  # locally the disk is yours
    monkeypatch.setenv("SPACE_ID", "someone/classitune")
    monkeypatch.setattr(os.path, "ismount", lambda path: False)
    assert "kept only until it restarts" in storage_note() and "Storage Bucket" in storage_note()
    monkeypatch.setattr(os.path, "ismount", lambda path: path == "/data")  # a bucket mounted at /data
    assert storage_note() is None
    monkeypatch.setattr(os.path, "ismount", lambda path: False)
    monkeypatch.setenv("CLASSITUNE_DATA_ROOT", "/mnt/bucket/classitune")  # the operator pointed it at a mount
    assert storage_note() is None


def test_zerogpu_shows_the_hardware_a_slot_gives(monkeypatch):
    """Issue 15: outside a slot ZeroGPU has no GPU; the Train tab shows the slot's GPU, not "CPU only"."""
    import torch

    from trainer.runs.hardware import batch_size_for, detect, precision_for

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    assert detect().describe().startswith("CPU only")
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    slot = detect()
    assert slot.device == "cuda" and "ZeroGPU slot per run" in slot.describe() and "CPU only" not in slot.describe()
    assert precision_for(slot) == "bf16" and batch_size_for(slot) == 64  # the plan is made for the slot's GPU
