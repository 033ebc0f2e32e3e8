"""Issue 28: each setting is declared once (trainer/config.py) and appears in the CLI, the API, the Train tab,
the plan and the card; the app, the CLI and the benchmarks prepare a run the same way. Quick tier."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import fields

import gradio as gr
import pytest

from conftest import ROOT
from trainer.config import TrainConfig, default_of
from trainer.errors import UserError

pytestmark = pytest.mark.quick  # the quick tier (README: Tests)

EXAMPLE = ROOT / "assets" / "banking77_sample.csv"
FORM = ("main", "advanced", "lora")


def other_value(f):
    """A valid value other than the setting's default, found from its declaration alone."""
    meta, default = f.metadata, default_of(f)
    if meta["choices"]:
        return next(c for c in meta["choices"] if c != default)
    if f.type == "bool":
        return not default
    if f.type.startswith("list"):
        return ["query", "value"]
    if f.type.startswith("str"):
        return "some-org/some-model"
    for candidate in (2, 8, 16, 0.5, 0.2, 1, 3, 1e-4, 128):
        value = int(candidate) if f.type.startswith("int") else float(candidate)
        if value != default and (meta["check"] is None or meta["check"](value)):
            return value
    raise AssertionError(f"no sample value for {f.name}")


def changed(f) -> TrainConfig:
    extra = {"method": "lora"} if f.metadata["group"] == "lora" else {"method": "full"} if f.name == "gpus" else {}
    return TrainConfig.from_dict({**extra, f.name: other_value(f)})


TRAINING = [f for f in fields(TrainConfig) if f.metadata["group"] != "data"]


def test_every_setting_is_in_the_cli_help_and_the_api_docs():
    from space.api import start_training
    from trainer.cli_args import build_parser

    help_text = " ".join(build_parser()._subparsers._group_actions[0].choices["train"].format_help().split())
    for f in fields(TrainConfig):
        if f.name not in ("text_column", "label_column"):  # the CLI's own --text-column / --label-column
            assert f"--{f.name.replace('_', '-')}" in help_text
        assert " ".join(f.metadata["help"].split())[:40] in help_text or f.name in ("text_column", "label_column")
        assert f"{f.name} (" in start_training.__doc__, f.name


def test_every_training_setting_has_a_component_in_the_train_tab_read_by_name():
    from space import train_form

    with gr.Blocks():
        form = train_form.build(gpu_count=2)
    assert list(form.components) == [f.name for f in fields(TrainConfig) if f.metadata["group"] in FORM]
    defaults = [c.value for c in form.inputs]
    assert form.config(defaults) == TrainConfig()  # the form's defaults are the declared ones
    values = dict(zip(form.components, defaults), method="lora", lora_r=8, epochs="3", learning_rate="")
    config = form.config(list(values.values()), {"text_column": "sentence"})
    assert (config.lora_r, config.epochs, config.learning_rate, config.text_column) == (8, 3.0, None, "sentence")
    with pytest.raises(UserError, match="Epochs: 'three' is not a number"):
        form.config(list(dict(values, epochs="three").values()))


@pytest.mark.parametrize("f", TRAINING, ids=[f.name for f in TRAINING])
def test_a_changed_setting_is_in_the_plan_and_every_setting_in_the_card(f):
    from space.plain import markdown_text
    from space.train_tab import _your_settings
    from trainer.hub.card import training_rows as _training_rows

    config = changed(f)
    label = f.metadata["label"]
    if f.name not in ("model", "method"):  # the plan's first line names those two
        assert markdown_text(label) in _your_settings(config)
    assert label in [row[0] for row in _training_rows(config.to_dict(), {}, {"pairs": 1})]


def test_the_card_shows_what_an_auto_method_resolved_to():
    from trainer.hub.card import training_rows

    rows = training_rows(TrainConfig().to_dict(), {"method": "setfit"}, {"pairs": 640})
    assert ["Method", "setfit"] == rows[[r[0] for r in rows].index("Method")][:2]
    assert ["Training pairs", 640] == [r for r in rows if r[0] == "Training pairs"][0][:2]


def test_settings_check_each_other_and_old_names_still_load():
    with pytest.raises(UserError, match="LoRA r set, but the method is full"):
        TrainConfig(method="full", lora_r=8)
    with pytest.raises(UserError, match="setfit method trains on one GPU"):
        TrainConfig(method="setfit", gpus=2)
    with pytest.raises(UserError, match="bf16 trains on GPUs only"):
        TrainConfig(precision="bf16").check_hardware("cpu")
    assert TrainConfig.from_dict({"patience": 5}).early_stopping_patience == 5  # a renamed key, as old runs hold it
    with pytest.raises(UserError, match="Unknown setting"):
        TrainConfig.from_dict({"epoch": 3})


def test_app_cli_and_benchmark_write_the_same_config(data_root, tmp_path):
    """One way to prepare a run (trainer/start.py): the same file and settings give the same config.json."""
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_small import prepared_run

    from trainer.service import Service

    settings = {"method": "lora", "epochs": 2, "seed": 7}
    service = Service(data_root)
    service.__dict__["hardware"] = {"device": "cpu"}  # as the CLI and the bench find it here (no GPU)
    app_run = service.prepare("hf:ann", str(EXAMPLE), TrainConfig(**settings))
    cli_dir = tmp_path / "cli-run"
    done = subprocess.run([sys.executable, "-m", "trainer", "train", "--data", str(EXAMPLE), "--output", str(cli_dir),
                           "--method", "lora", "--epochs", "2", "--seed", "7", "--dry-run"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    bench_run, _ = prepared_run(EXAMPLE, settings, tmp_path / "bench", seed=7)
    configs = [json.loads(p.read_text()) for p in (app_run.path("config.json"), cli_dir / "config.json",
                                                    bench_run.path("config.json"))]
    assert configs[0] == configs[1] == configs[2]
    assert configs[0]["max_length"] and configs[0]["text_column"] == "text"  # resolved, not left to auto
    # ... and the CLI reproduces a run from its config.json ("reproduce this run").
    again = tmp_path / "again"
    done = subprocess.run([sys.executable, "-m", "trainer", "train", "--config", str(cli_dir / "config.json"),
                           "--data", str(EXAMPLE), "--output", str(again), "--dry-run"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and json.loads((again / "config.json").read_text()) == configs[0], done.stderr
