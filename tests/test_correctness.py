"""Issue 33: the bugs a code review found in resume, ZeroGPU, out-of-memory and edge paths, one test each.
Quick tier: tiny models and the example file only."""

from __future__ import annotations

import pytest

import signal
import subprocess
import time
from types import SimpleNamespace

import numpy as np

from conftest import ROOT
from tiny import tiny_classifier
from trainer.config import TrainConfig

pytestmark = pytest.mark.quick  # the quick tier (README: Tests)

EXAMPLE = str(ROOT / "assets" / "banking77_sample.csv")
CPU = {"device": "cpu", "name": "CPU", "memory_gb": None, "cpu_cores": 2, "bf16": False, "gpu_count": 0}


def test_resumed_speed_counts_own_steps_and_time_counts_every_process(monkeypatch, tmp_path):
    """Item 1: resumed at step 100 after 50 s of training, 10 steps of 16 in 2 s: 80 samples/s and 52 s in all."""
    from trainer.training import run_progress

    clock = [1000.0]
    monkeypatch.setattr(run_progress.time, "time", lambda: clock[0])
    run = SimpleNamespace(metrics=lambda: [{"type": "train", "step": 100, "train_s": 50.0}])
    reporter = SimpleNamespace(run=run, event=lambda e: None, progress=lambda p, force=False: None, main=True)
    callback = run_progress.make_callback(reporter, batch=16, started=900.0)
    state = SimpleNamespace(global_step=100, max_steps=200, epoch=1.0)
    callback.on_train_begin(None, state, None)
    clock[0], state.global_step = 1002.0, 110
    assert callback.summary(state) == {"train_seconds": 52.0, "samples_per_second": 80.0}


def test_zerogpu_slot_refused_fails_the_run_instead_of_queueing_it_for_ever(data_root, monkeypatch):
    """Item 4: the GPU wrapper raises before training (quota used up): the run fails with the reason; after a
    restart, a run left queued by a ZeroGPU app that died becomes interrupted (resumable), not queued for ever."""
    import spaces

    from space.zerogpu import gpu_slot_launcher
    from trainer.service import Service

    def no_slot(*args, **kwargs):
        raise RuntimeError("ZeroGPU quota exceeded")

    monkeypatch.setattr(spaces, "GPU", lambda duration=None: lambda fn: no_slot)
    service = Service(data_root, gpu_slot=gpu_slot_launcher())
    service.__dict__["hardware"] = CPU  # not probed: this test is about the slot
    run = service.start("zoe", EXAMPLE, TrainConfig(epochs=1))
    for _ in range(100):
        if run.status()["state"] != "queued":
            break
        time.sleep(0.1)
    assert run.status()["state"] == "failed" and "quota exceeded" in run.status()["error"]
    stuck = service.prepare("zoe", EXAMPLE, TrainConfig(epochs=1))
    dead = subprocess.Popen(["true"])
    dead.wait()
    stuck.update_status(submitted=True, pid=dead.pid, pid_start="gone")
    Service(data_root, gpu_slot=gpu_slot_launcher())  # the app restarted
    assert stuck.status()["state"] == "interrupted"


def test_frozen_passes_back_off_when_out_of_memory(tmp_path, monkeypatch):
    """Item 5: the baseline's and evaluations' passes halve their own batch instead of failing."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from trainer.predict import batched_probabilities
    from trainer.training.warm_start import frozen_features

    folder = tiny_classifier(tmp_path / "tiny")
    model, tokenizer = AutoModelForSequenceClassification.from_pretrained(folder), AutoTokenizer.from_pretrained(folder)
    texts = [f"the film was {'good ' * (i % 7)}" for i in range(50)]
    expected = batched_probabilities(model, tokenizer, texts, 32, batch_size=128)
    features, _ = frozen_features(model, tokenizer, texts, 32, batch_size=128)
    forward, sizes = model.forward, []

    def small_batches_only(*args, **kwargs):
        sizes.append(len(kwargs["input_ids"]))
        if len(kwargs["input_ids"]) > 8:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return forward(*args, **kwargs)

    monkeypatch.setattr(model, "forward", small_batches_only)
    assert np.allclose(batched_probabilities(model, tokenizer, texts, 32, batch_size=128), expected, atol=1e-5)
    assert np.allclose(frozen_features(model, tokenizer, texts, 32, batch_size=128)[0], features, atol=1e-5)
    assert max(sizes) == 50 and sizes[-1] <= 8


def test_roberta_family_max_length_is_512_not_514():
    """Item 6: RoBERTa's position ids start after the padding index; 514 positions leave 512 usable."""
    from transformers import BertConfig, RobertaConfig

    from trainer.models import model_max_length

    no_limit = SimpleNamespace(model_max_length=10**30)
    assert model_max_length(no_limit, RobertaConfig(max_position_embeddings=514, pad_token_id=1)) == 512
    assert model_max_length(no_limit, BertConfig(max_position_embeddings=512)) == 512


def test_the_seed_varies_setfits_pairs():
    """Item 7: SetFit's sampler shuffles with RandomState(42) whatever the seed; the run's seed must matter."""
    from trainer.training.contrastive import _pairs

    texts = [f"text {i}" for i in range(24)]
    targets = np.array([i % 3 for i in range(24)])
    first, again, other = (_pairs(texts, targets, 60, seed).to_list() for seed in (0, 0, 1))
    assert first == again and first != other


def test_a_hanging_hardware_probe_does_not_stop_the_app(data_root, monkeypatch):
    """Item 8."""
    from trainer import service as service_module
    from trainer.runs.hardware import Hardware

    def hang(*args, **kwargs):
        raise subprocess.TimeoutExpired(args[0], 120)

    monkeypatch.setattr(service_module.subprocess, "run", hang)
    hardware = service_module.Service(data_root).hardware
    assert "could not be probed" in hardware["description"] and Hardware.from_dict(hardware).device == "cpu"


def test_a_worker_killed_by_a_real_time_signal_is_reported_killed(data_root):
    """Item 9: ``signal.Signals(-rc)`` has no name for real-time signals; the run still reads "killed"."""
    from trainer.service import Service

    service = Service(data_root)
    service.__dict__["hardware"] = CPU
    run = service.prepare("kai", EXAMPLE, TrainConfig(epochs=1))
    run.update_status(state="running")
    service.supervisor._mark_dead(run, -(signal.SIGRTMIN + 2))
    assert run.status()["state"] == "failed" and f"killed (signal {signal.SIGRTMIN + 2})" in run.status()["error"]


def test_a_typed_hub_id_without_namespace_stays_in_predict(data_root):
    """Item 10: ``roberta-base`` is a Hub id as much as ``org/model`` is."""
    from space import common
    from space.train_tab import finished_runs

    common._service = None
    update, _ = finished_runs("browser:x", "roberta-base", None, None, keep_typed=True)
    assert update["value"] == "roberta-base"
    # so is anything else typed (a run id not yet listed, tuned:<run>): a refresh never swaps it for another model
    for typed in ("20261207-161829-ZDCR1Ln_Vqd46Xi1", "tuned:20261207-161829-ZDCR1Ln_Vqd46Xi1"):
        assert finished_runs("browser:x", typed, None, None, keep_typed=True)[0]["value"] == typed
    # with nothing to pick and nothing typed when the list was asked for, the box is left alone: a value typed while
    # the answer was on its way is not wiped by it
    assert "value" not in finished_runs("browser:x", "", None, None, keep_typed=True)[0]
    common._service = None


def test_the_report_says_how_many_more_rows_were_dropped(tmp_path):
    """Item 12: 30 empty texts list the first 10 rows and say "and 20 more"."""
    from trainer.intake.data import load_dataset_file

    rows = [f"text number {i},{'ab'[i % 2]}" for i in range(40)] + [f",{'ab'[i % 2]}" for i in range(30)]
    path = tmp_path / "empties.csv"
    path.write_text("text,label\n" + "\n".join(rows) + "\n")
    warnings = " ".join(load_dataset_file(path).report.warnings)
    assert "30 rows with empty text dropped" in warnings and "and 20 more" in warnings, warnings


def test_early_stopping_says_why_the_run_ended(tmp_path):
    """Issue 30 ("also seen"): a run ended by early stopping says so, with the way to turn it off."""
    import pandas as pd

    from tiny import tiny_classifier
    from trainer.config import TrainConfig
    from trainer.runs.start import prepare_run, write_run
    from trainer.runs.store import Run
    from trainer.training.train import run_training

    frame = pd.read_csv(EXAMPLE)
    path = tmp_path / "two.csv"
    frame[frame["label"].isin(frame["label"].unique()[:2])].to_csv(path, index=False)
    config = TrainConfig(model=str(tiny_classifier(tmp_path / "tiny")), method="full", epochs=40, max_length=32,
                         early_stopping_patience=1)
    prepared = prepare_run(path, config)
    run = Run(tmp_path / "run")
    write_run(run, prepared)
    status = run_training(run, prepared.config, prepared.intake.train, prepared.intake.validation,
                          prepared.intake.labels)
    assert status["state"] == "succeeded"
    assert any(line.startswith("stopped early at step") and "patience to 0" in line for line in run.activity(500))
