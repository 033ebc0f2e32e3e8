"""The training engine on real data: it learns (both methods), beats chance, saves a pipeline-ready model."""

import csv
import json
import math
import os
import re
import subprocess
import sys

import pandas as pd
import pytest

from conftest import ROOT, real_slice
from trainer.config import TrainConfig
from trainer.intake.data import load_dataset_file
from trainer.runs.store import Run
from trainer.training.train import run_training


@pytest.fixture(scope="module")
def sst2_slice(shared, tmp_path_factory):
    return real_slice(shared, "sst2", 800, tmp_path_factory.mktemp("data") / "sst2_800.csv")


@pytest.fixture(scope="module")
def full_run(shared, sst2_slice, tmp_path_factory):
    """A full fine-tune through the CLI: 800 SST-2 training sentences, scored on the official 872-sentence dev set."""
    out = tmp_path_factory.mktemp("runs") / "full"
    result = subprocess.run([sys.executable, "-m", "trainer", "train", "--data", str(sst2_slice),
                             "--validation-file", str(shared / "sst2" / "validation.csv"), "--output", str(out),
                             "--epochs", "2", "--evals-per-epoch", "1"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return Run(out), result.stdout


def test_full_fine_tune_learns(full_run):
    run, stdout = full_run
    status = run.status()
    assert status["state"] == "succeeded"
    assert status["best"]["accuracy"] >= 0.75  # chance is 0.5; measured 0.80-0.82 on this slice
    assert status["baseline"]["accuracy"] > 0.6
    assert re.search(r"evaluated at step \d+/\d+ · epoch [\d.]+: accuracy [\d.]+ · macro-F1", stdout), stdout[-2000:]
    assert "done: accuracy=" in stdout and "type=" not in stdout  # lines a person reads, not key=value dumps


def test_run_directory_contents(full_run):
    run, _ = full_run
    for name in ("config.json", "labels.json", "status.json", "metrics.jsonl", "eval_predictions.csv",
                 "evaluation.json", "model/config.json", "model/model.safetensors", "baseline/baseline.json"):
        assert run.path(name).exists(), name
    assert not run.path("checkpoints").exists()  # cleaned up after success
    events = run.metrics()
    train_events = [e for e in events if e["type"] == "train"]
    evals = [e for e in events if e["type"] == "eval"]
    assert len(evals) == 2 and all({"accuracy", "macro_f1", "weighted_f1", "eval_loss"} <= set(e) for e in evals)
    assert {"loss", "learning_rate", "samples_per_second", "elapsed_s", "eta_s", "epoch", "step"} <= set(train_events[-1])
    with open(run.path("eval_predictions.csv")) as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 872 and set(rows[0]) == {"text", "true_label", "predicted_label", "confidence",
                                                 "baseline_prediction", "verdict"}
    accuracy = sum(r["true_label"] == r["predicted_label"] for r in rows) / len(rows)
    assert accuracy == pytest.approx(run.status()["best"]["accuracy"])


def test_run_reviews_its_labels(full_run, sst2_slice):
    """Every run ranks its training rows from the baseline's embeddings and marks its validation mistakes."""
    from space.label_review import misclassified, training_suspects
    from trainer.quality.label_errors import MODEL_ERROR, POSSIBLE_LABEL_ERROR

    run, stdout = full_run
    review = json.loads(run.path("label_errors.json").read_text())
    file = pd.read_csv(sst2_slice)
    assert review["checked"] == review["total"] == 800  # all 800 rows train: the validation file is separate
    assert run.status()["label_errors"]["flagged"] == review["flagged"] == sum(r["flagged"] for r in review["rows"])
    for row in review["rows"][:50]:  # row numbers point at the user's file: the same text and label there
        assert (file["text"][row["row"] - 1].strip(), file["label"][row["row"] - 1]) == (row["text"].strip(),
                                                                                          row["given_label"])
    assert "training rows look mislabeled" in (run.path("activity.log").read_text())
    note, suspects = training_suspects(run)
    assert "not a verdict" in note and len(suspects) == min(review["flagged"], 200)

    predictions = pd.read_csv(run.path("eval_predictions.csv"), keep_default_na=False)
    wrong = predictions[predictions["true_label"] != predictions["predicted_label"]]
    agree = wrong["baseline_prediction"] == wrong["predicted_label"]
    assert (wrong["verdict"][agree] == POSSIBLE_LABEL_ERROR).all() and (wrong["verdict"][~agree] == MODEL_ERROR).all()
    assert (predictions["verdict"][predictions["true_label"] == predictions["predicted_label"]] == "").all()
    shown = misclassified(predictions)
    assert len(shown) == len(wrong) and 0 < agree.sum() < len(wrong)  # both kinds occur on real data
    assert shown["verdict"].iloc[:agree.sum()].eq(POSSIBLE_LABEL_ERROR).all()  # possible label errors first


def test_model_folder_loads_in_a_pipeline(full_run):
    from transformers import pipeline

    run, _ = full_run
    classify = pipeline("text-classification", model=str(run.model_dir))
    expected = pd.read_csv(run.path("eval_predictions.csv")).head(32)
    got = [r["label"] for r in classify(expected["text"].tolist(), truncation=True)]  # at the run's max_length
    assert got == expected["predicted_label"].tolist()
    assert set(got) <= {"negative", "positive"}


def test_cli_predict_writes_escaped_csv(full_run, tmp_path):
    run, _ = full_run
    source = tmp_path / "in.csv"
    texts = ["a wonderful, moving film", "=HYPERLINK(\"http://x\")", "dull and lifeless"]
    pd.DataFrame({"text": texts}).to_csv(source, index=False)
    out = tmp_path / "out.csv"
    result = subprocess.run([sys.executable, "-m", "trainer", "predict", "--model", str(run.model_dir), "--input",
                             str(source), "--output", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(open(out)))
    assert [r["label"] for r in (rows[0], rows[2])] == ["positive", "negative"]
    assert rows[1]["text"].startswith("'=")
    for use, name in (([], "what this run recommends"), (["--use", "baseline"], "the quick baseline")):
        # a run folder: the model the run recommends, or the one asked for
        result = subprocess.run([sys.executable, "-m", "trainer", "predict", "--model", str(run.dir), "--input",
                                 str(source), "--output", str(out), *use], capture_output=True, text=True, cwd=ROOT)
        assert result.returncode == 0 and name in result.stdout, result.stderr
        assert [r["label"] for r in csv.DictReader(open(out))][0] == "positive"


def test_lora_learns_and_keeps_adapter(shared, sst2_slice, tmp_path):
    from transformers import pipeline

    intake = load_dataset_file(sst2_slice, validation_file=shared / "sst2" / "validation.csv")
    config = TrainConfig(method="lora", epochs=2, evals_per_epoch=1, max_length=intake.report.length["suggested_max_length"])
    run = Run(tmp_path / "lora")
    run.dir.mkdir()
    status = run_training(run, config, intake.train, intake.validation, intake.labels)
    assert status["state"] == "succeeded"
    assert status["best"]["accuracy"] >= 0.75  # measured 0.80-0.84
    assert (run.path("adapter") / "adapter_config.json").exists()
    assert pipeline("text-classification", model=str(run.model_dir))("a joyous, heartfelt triumph")[0]["label"] == "positive"


@pytest.mark.parametrize("args, message", [
    (["--method", "qlora"], "Invalid setting method='qlora'"),
    (["--epochs", "many"], "Invalid setting epochs='many'"),
    (["--data", "/nonexistent/file.csv"], "was not found"),
])
def test_cli_train_user_errors_exit_2(args, message, tmp_path):
    base = ["--data", str(ROOT / "assets" / "banking77_sample.csv")] if "--data" not in args else []
    result = subprocess.run([sys.executable, "-m", "trainer", "train", *base, *args, "--output", str(tmp_path / "r")],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_accelerate_two_processes(tmp_path, tiny_model):
    """Data-parallel over 2 CPU processes with ``accelerate launch``; only the main process writes the run; the
    class-weighted loss is the same size as in one process (a random head's first loss is about ln(6) for 6
    classes, whatever the batch; it was twice that under 2 processes)."""
    from transformers import pipeline

    root = tmp_path / "root"  # no --output: the run goes to the data root, created by rank 0 only
    result = subprocess.run([sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
                             "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
                             "-m", "trainer", "train", "--data", str(ROOT / "assets" / "banking77_sample.csv"),
                             "--epochs", "1", "--evals-per-epoch", "1", "--class-weights", "on",
                             "--head-init", "random", "--model", tiny_model, "--max-length", "32"],
                            capture_output=True, text=True, cwd=ROOT, timeout=600,
                            env={**os.environ, "CLASSITUNE_DATA_ROOT": str(root)})
    assert result.returncode == 0, result.stderr[-3000:]
    runs = list((root / "runs").iterdir())
    assert len(runs) == 1 and not list(root.glob("launch-*"))  # one run for both processes, hand-off removed
    out = runs[0]
    status = json.loads((out / "status.json").read_text())
    assert status["state"] == "succeeded" and status["config_resolved"]["world_size"] == 2
    assert status["config_resolved"]["class_weights"] is True
    first = next(e for e in map(json.loads, (out / "metrics.jsonl").read_text().splitlines()) if e["type"] == "train")
    assert first["step"] == 1 and abs(first["loss"] - math.log(6)) < 0.35, first
    assert result.stdout.count("run directory:") == 1
    labels = json.loads((out / "labels.json").read_text())
    assert pipeline("text-classification", model=str(out / "model"))("where is my card?")[0]["label"] in labels


def test_sagemaker_training_job_conventions(tmp_path, tiny_model):
    """As a SageMaker estimator entry point: data from SM_CHANNEL_TRAIN, the model copied to SM_MODEL_DIR."""
    channel, model_dir, output = tmp_path / "train", tmp_path / "model", tmp_path / "output"
    channel.mkdir()
    (channel / "data.csv").write_bytes((ROOT / "assets" / "banking77_sample.csv").read_bytes())
    env = {**os.environ, "SM_CHANNEL_TRAIN": str(channel), "SM_MODEL_DIR": str(model_dir),
           "SM_OUTPUT_DATA_DIR": str(output), "SM_NUM_GPUS": "0"}
    result = subprocess.run([sys.executable, "-m", "trainer", "train", "--epochs", "1", "--evals-per-epoch", "1",
                             "--model", tiny_model, "--max-length", "32"], capture_output=True, text=True, cwd=ROOT,
                            env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (model_dir / "model.safetensors").exists() and (model_dir / "config.json").exists()
    assert json.loads((output / "run" / "status.json").read_text())["state"] == "succeeded"
