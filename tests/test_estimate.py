"""What the Train tab says before Start (trainer/estimate.py) and the activity lines it shows (trainer/activity.py)."""

import pytest

from trainer.runs.activity import event_line, state_line
from trainer.config import TrainConfig
from trainer.runs.estimate import estimate
from trainer.runs.hardware import Hardware

pytestmark = pytest.mark.quick  # the quick tier (README: Tests)

CPU = Hardware("cpu", "CPU", None, 2, False, 0)
GPU = Hardware("cuda", "NVIDIA H100", 80.0, 16, True, 1)


def finished(model: str, method: str, samples_per_second: float, hardware: str = "CPU only: 2 cores") -> dict:
    return {"state": "succeeded", "samples_per_second": samples_per_second, "hardware": hardware,
            "config": {"model": model, "method": method, "max_length": 64}, "config_resolved": {"max_length": 64}}


def test_estimate_uses_the_users_measured_speed_and_says_where_it_comes_from():
    config = TrainConfig(model="default", method="full")
    default = estimate(config, 2000, 200, 64, CPU, [])
    assert default.seconds and "benchmark" in default.basis and default.steps == default.epochs * 63
    mine = estimate(config, 2000, 200, 64, CPU, [finished("default", "full", 72.0)])
    assert mine.basis == "your last run's speed" and mine.seconds < default.seconds
    longer = estimate(TrainConfig(model="default", method="full"), 2000, 200, 128, CPU, [finished("default", "full", 72.0)])
    assert longer.seconds > mine.seconds  # longer texts, slower steps
    assert f"{mine.steps:,} steps of 32" in mine.describe()
    # Issue 30 (6): a range whose high end is the busy machine, every phase counted, and the live speed said
    assert mine.high_seconds == pytest.approx(3 * mine.seconds) and "idle machine" in mine.describe()
    assert "live speed" in mine.describe() and mine.record()["high_seconds"] >= mine.record()["seconds"]
    tiny = estimate(config, 16, 8, 64, CPU, [])
    assert tiny.seconds >= 10  # start-up, loading, label check and saving, even for a handful of steps


def test_no_figure_rather_than_a_guess():
    """An unknown model, or a GPU with no run measured on it: the plan, and no time."""
    for config, hardware, history in ((TrainConfig(model="roberta-base"), CPU, []),
                                      (TrainConfig(model="default"), GPU, [finished("default", "full", 40.0)])):
        result = estimate(config, 500, 50, 64, hardware, history)
        assert result.seconds is None and "no time estimate yet" in result.describe()
    lora = estimate(TrainConfig(model="default", method="lora"), 500, 50, 64, CPU, [finished("default", "full", 99.0)])
    assert "benchmark" in lora.basis  # a full fine-tune's speed says nothing about LoRA's


def test_activity_lines_are_sentences_not_key_value_dumps():
    train = {"type": "train", "step": 41, "max_steps": 58, "epoch": 1.4137, "loss": 0.37612, "samples_per_second": 21.54}
    assert event_line(train) == "step 41/58 · epoch 1.41 · loss 0.376 · 21.5 samples/s"
    evaluation = {"type": "eval", "step": 40, "max_steps": 58, "epoch": 1.38, "accuracy": 0.91234, "macro_f1": 0.9,
                  "eval_loss": 0.31}
    assert event_line(evaluation) == ("evaluated at step 40/58 · epoch 1.38: accuracy 0.912 · macro-F1 0.900 · "
                                      "validation loss 0.310")
    assert state_line("succeeded", {"best": {"micro_f1": 0.5, "macro_f1": 0.25}}) == (
        "✓ finished: validation micro-F1 0.500 · macro-F1 0.250")
    assert state_line("failed", {"error": "Out of memory"}) == "✗ failed: Out of memory"
