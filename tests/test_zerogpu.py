"""ZeroGPU Spaces: runs handed to a ``spaces.GPU`` function with a duration from the run's estimate.

Off ZeroGPU (here) the real ``spaces`` package's ``GPU`` decorator hands back the function
itself, so this runs ClassiTune's whole ZeroGPU path except ZeroGPU's own scheduling and fork.
"""

import os
import time

import pytest

from conftest import ROOT
from space.zerogpu import gpu_slot_launcher
from trainer.config import TrainConfig
from trainer.errors import UserError
from trainer.service import Service
from trainer.runs.worker import estimate_gpu_seconds

EXAMPLE = str(ROOT / "assets" / "banking77_sample.csv")


def test_a_run_trains_in_the_gpu_slot(data_root):
    service = Service(data_root, standby=True, gpu_slot=gpu_slot_launcher())
    assert not service.supervisor.standby  # no CPU training on ZeroGPU, so no standby worker either
    run = service.start("zoe", EXAMPLE, TrainConfig(epochs=1, evals_per_epoch=1))
    deadline = time.time() + 300
    while run.status().get("state") in ("queued", "running") and time.time() < deadline:
        time.sleep(0.5)
    status = service.status(run.id, "zoe")
    assert status.state == "succeeded", status
    assert run.status()["pid"] == os.getpid()  # trained by the slot function, not a worker process
    assert status.best["accuracy"] > 0.5  # 6 Banking77 intents, chance is 0.17
    assert service.predict(run.id, ["I lost my card"], "zoe")[0]["label"]


def test_a_run_longer_than_the_slot_is_refused_before_it_starts(data_root, monkeypatch):
    monkeypatch.setenv("CLASSITUNE_ZEROGPU_MAX_SECONDS", "60")
    service = Service(data_root, gpu_slot=gpu_slot_launcher())
    short = service.prepare("yuri", EXAMPLE, TrainConfig(epochs=1))  # prepared only: they count as queued for yuri
    long = service.prepare("yuri", EXAMPLE, TrainConfig(epochs=40))
    assert estimate_gpu_seconds(short) < 60 < estimate_gpu_seconds(long)
    with pytest.raises(UserError, match=r"needs about \d+ s of GPU time, over the 60 s .* fewer epochs"):
        service.start("zoe", EXAMPLE, TrainConfig(epochs=40))
    refused = service.list("zoe")[0]
    assert refused.state == "failed"
    assert "fewer epochs" in service.status(refused.id, "zoe").error
