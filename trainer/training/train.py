"""The training engine: one run, from its prepared data to a saved, evaluated ``model/``.

Loads the model, fits the quick baseline and warm-starts the head (warm_start.py), checks
the labels, hands the model to the run's method (fine_tune.py: full or LoRA;
contrastive.py: setfit), then evaluates, saves, and recommends the better of the two
models. Progress goes to ``status.json`` (at most once a second) and every log /
evaluation event to ``metrics.jsonl``; only the main process writes.
"""

from __future__ import annotations

import csv
import errno
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from trainer.training.batching import out_of_memory
from trainer.training.cancel import RunCancelled
from trainer.training.choice import recommend
from trainer.config import TrainConfig
from trainer.errors import UserError
from trainer.runs.hardware import Hardware, detect, precision_for
from trainer.quality.label_errors import find_label_errors, with_verdicts
from trainer.runs.estimate import duration
from trainer.training.contrastive import fit_contrastive
from trainer.training.sentence_classifier import MeanPooledClassifier
from trainer.training.fine_tune import Fitting, fine_tune
from trainer.bodies.run_choice import resolve_body
from trainer.training.mean_pooling import add_mean_pooling_layer, trained_for_mean_pooling
from trainer.models import display_name, model_max_length, resolve_model
from trainer.training.run_progress import Reporter, world_size
from trainer.runs.store import Run, RunStore, this_process, write_json_atomic
from trainer.training.schedule import Schedule, plan
from trainer.tasks import task_of
from trainer.training.warm_start import warm_start


def _load_model(config: TrainConfig, model_path: str, labels: list[str], task):
    from transformers import AutoModelForSequenceClassification

    try:
        return AutoModelForSequenceClassification.from_pretrained(
            model_path, num_labels=len(labels), id2label=dict(enumerate(labels)), problem_type=task.problem_type,
            label2id={name: i for i, name in enumerate(labels)}, trust_remote_code=False, use_safetensors=True,
            ignore_mismatched_sizes=True)
    except OSError as exc:
        raise UserError(f"Could not load model {config.model!r} with safetensors weights ({str(exc).splitlines()[0]}). "
                        f"Use the embedded default, a local folder, or a Hub model that ships model.safetensors.") from exc


def _add_pooling(config: TrainConfig, model_path: str, model):
    """The frozen mean-pooling layer for encoders trained for mean pooling (or when asked); ``None`` otherwise."""
    if config.pooling == "cls" or (config.pooling == "auto" and not trained_for_mean_pooling(model_path)):
        return None
    layer = add_mean_pooling_layer(model)
    if layer is None and config.pooling == "mean":
        raise UserError(f"pooling=mean works with BERT-architecture models only; {config.model!r} is "
                        f"{model.config.model_type}. Use pooling=auto or cls.")
    return layer


DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
DISK_FULL_WORDS = ("no space left", "disk quota", "file too large", "storagefull", "filetoolarge", "file write failed")


def _out_of_disk(exc: BaseException) -> bool:
    """A failed write for want of space; savers wrap the OSError (safetensors, torch.save), so the chain and text count."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS:
            return True
        if any(word in str(exc).lower() for word in DISK_FULL_WORDS):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def library_versions() -> dict[str, str]:
    """The versions that trained the run (the model card's "Framework versions")."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    found = {"Python": platform.python_version()}
    for name in ("torch", "transformers", "peft", "sentence-transformers", "setfit", "scikit-learn", "datasets",
                 "huggingface_hub"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def _drop_partial_checkpoints(run: Run) -> None:
    """Free what a failed save left behind; complete checkpoints stay for a later resume."""
    for folder in run.path("checkpoints").glob("checkpoint-*"):
        if not (folder / "trainer_state.json").exists():
            shutil.rmtree(folder, ignore_errors=True)


def run_training(run: Run, config: TrainConfig, train: pd.DataFrame, validation: pd.DataFrame,
                 labels: list[str], test: pd.DataFrame | None = None, store: RunStore | None = None,
                 resume: bool = False, echo: bool = False, hardware: Hardware | None = None) -> dict:
    """Fine-tune, evaluate, save ``model/``, fit the quick baseline; return the final status.

    Every failure ends in a terminal state with a message a user can act on: ``cancelled``
    (cancel or Ctrl-C), ``failed`` (bad settings, out of memory, out of disk space, a crash).
    """
    reporter = Reporter(run, store, echo)
    hw = hardware or detect()
    schedule = plan(config, len(train), hw, world_size())
    batch = schedule.batch_size
    started = time.time()
    # Under accelerate launch the run's pid stays the launcher's (the group the app signals), not rank 0's.
    reporter.state("running", **(this_process() if world_size() == 1 else {}), hardware=hw.describe(),
                   phase="loading model", error=None,
                   versions=library_versions())
    try:
        config = resolve_body(reporter, config, train, len(validation), labels, hw)
        summary = _train(run, config, train, validation, test, labels, reporter, hw, schedule, resume, started)
    except RunCancelled:
        reporter.state("cancelled", error="Cancelled by the user; metrics up to that point are kept.")
        raise
    except KeyboardInterrupt:
        reporter.state("cancelled", error="Interrupted from the keyboard; metrics up to that point are kept.")
        raise
    except UserError as exc:
        reporter.state("failed", error=str(exc))
        raise
    except Exception as exc:
        if _out_of_disk(exc):
            _drop_partial_checkpoints(run)
            message = (f"Ran out of disk space while saving ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}). "
                       f"Free space (delete old runs) or ask for more storage, then start the run again.")
            reporter.state("failed", error=message)
            raise UserError(message) from exc
        if out_of_memory(exc):
            message = (f"Out of memory with batch size {batch} and max length {config.max_length}. "
                       f"Start again with batch size {max(1, batch // 2)} (or a shorter max length).")
            reporter.state("failed", error=message)
            raise UserError(message) from exc
        reporter.state("failed", error=f"Training crashed: {type(exc).__name__}: {exc}. See train.log in the run.")
        raise
    took = time.time() - started
    planned = run.status().get("estimate") if reporter.main else None
    reporter.say(f"took {duration(took)}" + (f" (estimated {duration(planned['seconds'])} to "
                                             f"{duration(planned['high_seconds'])} before it started)" if planned else ""))
    reporter.state("succeeded", phase="done", total_seconds=round(took, 1), **summary)
    return run.status()


def _train(run: Run, config: TrainConfig, train: pd.DataFrame, validation: pd.DataFrame, test: pd.DataFrame | None,
           labels: list[str], reporter: Reporter, hw: Hardware, schedule: Schedule, resume: bool,
           started: float) -> dict:
    from transformers import AutoTokenizer, set_seed

    set_seed(config.seed)
    task = task_of(config.to_dict())
    model_path = resolve_model(config.model)
    tokenizer = AutoTokenizer.from_pretrained(model_path, trust_remote_code=False)
    model = _load_model(config, model_path, labels, task)
    pooling_layer = _add_pooling(config, model_path, model)
    limit = model_max_length(tokenizer, getattr(model, "config", None))
    max_length = min(config.max_length or limit, limit)
    precision = precision_for(hw, config.precision)
    train_targets, truth = task.targets(train, len(labels)), task.targets(validation, len(labels))
    found_weights = task.loss_weights(train_targets, len(labels), config.class_weights)
    weights = None if found_weights is None else torch.tensor(found_weights, dtype=torch.float32)
    schedule.why["class_weights"] = _weights_why(config.class_weights, found_weights is not None, task.weighting)
    reporter.phase("baseline")
    model.to(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if hw.device == "cuda" else "cpu")  # this rank's GPU
    warm = warm_start(model, tokenizer, train["text"].tolist(), train_targets, validation["text"].tolist(),
                      len(labels), max_length, balanced=weights is not None, init_head=config.head_init == "probe",
                      seed=config.seed, pooling_layer=pooling_layer, task=task.name)
    warm.baseline.thresholds = task.thresholds(truth, warm.validation_probabilities, labels, config.thresholds)
    baseline_evaluation = task.evaluation(truth, warm.validation_probabilities, labels, warm.baseline.thresholds)
    baseline_scores = baseline_evaluation["scores"]
    if reporter.main:
        run.path("baseline").mkdir(exist_ok=True)
        warm.baseline.save(run.path("baseline") / "baseline.json")
        write_json_atomic(run.path("baseline") / "evaluation.json", baseline_evaluation)
        run.update_status(baseline=baseline_scores)
        _check_labels(run, reporter, train, warm, labels, task.name)
    fit = fit_contrastive if config.method == "setfit" else fine_tune
    model, summary = fit(Fitting(run, config, model, tokenizer, model_path, train, validation, labels, task, reporter,
                                 hw, schedule, resume, started, max_length, precision, pooling_layer, weights))
    if not reporter.main:
        return summary
    reporter.phase("evaluating")
    probs = _probabilities(model, tokenizer, validation, max_length, task)
    thresholds = task.thresholds(truth, probs, labels, config.thresholds)
    evaluation = task.evaluation(truth, probs, labels, thresholds)
    header, rows = task.prediction_rows(validation["text"], truth, probs, labels, thresholds)
    _, baseline_rows = task.prediction_rows(validation["text"], truth, warm.validation_probabilities, labels,
                                            warm.baseline.thresholds)
    _write_eval_predictions(run.dir, *with_verdicts(header, rows, baseline_rows))
    write_json_atomic(run.path("evaluation.json"), evaluation)
    summary["best"] = evaluation["scores"]
    if test is not None and len(test):
        test_probs = _probabilities(model, tokenizer, test, max_length, task)
        summary["test"] = task.scores(task.targets(test, len(labels)), test_probs, thresholds, labels)
    reporter.phase("saving model")
    _save_model(model, tokenizer, run, config, max_length, thresholds)
    shutil.rmtree(run.path("checkpoints"), ignore_errors=True)
    summary["baseline"] = baseline_scores
    summary["recommended"] = recommend(summary["best"], baseline_scores, len(validation), task.ranking)
    summary["base_model_name"] = display_name(config.model)
    return summary


def _weights_why(mode: str, on: bool, weighting: str) -> str:
    if mode != "auto":
        return f"{mode}: set by you" + (f" ({weighting})" if on else "")
    return (f"on: auto, the labels are imbalanced (the largest over 3x the smallest); {weighting}" if on else
            "off: auto, the labels are within 3x of each other")


def _probabilities(model, tokenizer, frame: pd.DataFrame, max_length: int, task) -> np.ndarray:
    """The restored best model's probabilities on a split, in the data's own row order."""
    from trainer.predict import batched_probabilities

    was_training = model.training
    model.eval()
    probs = batched_probabilities(model, tokenizer, frame["text"].tolist(), max_length, batch_size=128,
                                  activation=task.probabilities)
    model.train(was_training)
    return probs


def _check_labels(run: Run, reporter: Reporter, train: pd.DataFrame, warm, labels: list[str], task: str) -> None:
    """Rank the training rows by how likely their label is wrong, from the baseline's embeddings (a few seconds
    per thousand rows). A failure here costs the ranking, never the run."""
    reporter.phase("checking labels")
    rows = train.iloc[warm.train_rows]
    if "row" not in rows:
        rows = rows.assign(row=warm.train_rows + 1)
    try:
        review = find_label_errors(rows, labels, warm.train_features, total=len(train), task=task)
    except Exception as exc:  # noqa: BLE001 - the check is an extra; the run goes on without it
        reporter.say(f"label check skipped: {type(exc).__name__}: {str(exc)[:200]}")
        return
    write_json_atomic(run.path("label_errors.json"), review.to_dict())
    run.update_status(label_errors={"flagged": review.flagged, "checked": review.checked, "total": review.total})
    reporter.say(f"label check: about {review.flagged:,} of {review.checked:,} training rows look mislabeled")


def _write_eval_predictions(run_dir: Path, header: list[str], rows: list[list]) -> None:
    with open(run_dir / "eval_predictions.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _save_model(model, tokenizer, run: Run, config: TrainConfig, max_length: int, thresholds: dict | None) -> None:
    """``model/`` always loads with ``pipeline("text-classification")``; LoRA also keeps ``adapter/``.

    The tokenizer is saved with the run's ``max_length``, so that ``truncation=True`` (and ClassiTune's Predict)
    cuts texts where training and evaluation did: with mean pooling, the tail of a long text changes the result.
    """
    tokenizer.model_max_length = max_length
    if thresholds:  # multi-label: whoever loads model/ finds the tuned decision thresholds in its config.json
        model.config.label_thresholds = thresholds["per_label"]
    if isinstance(model, MeanPooledClassifier):  # a setfit run on a mean-pooling body that is not a BERT
        model.save(run.model_dir, tokenizer)
        return
    if config.method == "lora":
        model.save_pretrained(run.path("adapter"))
        tokenizer.save_pretrained(run.path("adapter"))
        model = model.merge_and_unload()
    model.save_pretrained(run.model_dir, safe_serialization=True)
    tokenizer.save_pretrained(run.model_dir)
