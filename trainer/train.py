"""The training engine: one fine-tune (full or LoRA) of one run, reporting itself to its run directory.

Built on ``transformers.Trainer`` (so ``accelerate launch`` data parallelism, mixed
precision, checkpoints and resume come from the library) with dynamic padding and
length-grouped batches. Progress goes to ``status.json`` (at most once a second) and
every log / evaluation event to ``metrics.jsonl``; only the main process writes.
"""

from __future__ import annotations

import csv
import errno
import json
import math
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .baseline import Baseline, embed
from .config import TrainConfig
from .errors import UserError
from .hardware import Hardware, batch_size_for, detect, precision_for
from .metrics import confusion, per_class, scores
from .models import display_name, model_max_length, resolve_model
from .runs import Run, RunStore, this_process, write_json_atomic


class RunCancelled(BaseException):
    """Raised (from a signal handler or Ctrl-C) to stop a run; BaseException so no ``except Exception`` hides it."""


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


class Reporter:
    """Writes a run's status (and registry row) from the main process only; prints progress lines."""

    def __init__(self, run: Run, store: RunStore | None, echo: bool):
        self.run, self.store, self.echo = run, store, echo and is_main_process()
        self.main = is_main_process()
        self._last_write = 0.0

    def state(self, state: str, **changes) -> None:
        if not self.main:
            return
        if self.store:
            self.store.set_state(self.run, state, **changes)
        else:
            self.run.update_status(state=state, **changes)

    def phase(self, phase: str) -> None:
        if self.main:
            self.run.update_status(phase=phase)
        self.say(f"[{phase}]")

    def progress(self, progress: dict, force: bool = False) -> None:
        now = time.time()
        if self.main and (force or now - self._last_write >= 1.0):
            self._last_write = now
            self.run.update_status(progress=progress)

    def event(self, event: dict) -> None:
        if self.main:
            self.run.append_metrics(event)
        self.say(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in event.items()))

    def say(self, line: str) -> None:
        if self.echo:
            print(line, flush=True)


def _tokenize(tokenizer, frame: pd.DataFrame, max_length: int):
    from datasets import Dataset

    encoded = tokenizer(frame["text"].tolist(), truncation=True, max_length=max_length)
    columns = {k: encoded[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in encoded}
    columns["labels"] = frame["label"].astype("int64").tolist()
    return Dataset.from_dict(columns)


def _build_model(config: TrainConfig, model_path: str, labels: list[str]):
    from transformers import AutoModelForSequenceClassification

    try:
        model = AutoModelForSequenceClassification.from_pretrained(
            model_path, num_labels=len(labels), id2label=dict(enumerate(labels)),
            label2id={name: i for i, name in enumerate(labels)}, trust_remote_code=False, use_safetensors=True,
            ignore_mismatched_sizes=True)
    except OSError as exc:
        raise UserError(f"Could not load model {config.model!r} with safetensors weights ({str(exc).splitlines()[0]}). "
                        f"Use the embedded default, a local folder, or a Hub model that ships model.safetensors.") from exc
    if config.method == "full" and config.freeze_embeddings:
        # The word-embedding matrix is the largest tensor of a small encoder (11.7M of MiniLM's 22.7M weights);
        # its dense AdamW update costs a large share of each CPU step and barely moves accuracy.
        model.get_input_embeddings().weight.requires_grad_(False)
    if config.method == "lora":
        from peft import LoraConfig, TaskType, get_peft_model

        targets = config.lora_target_modules
        lora = LoraConfig(task_type=TaskType.SEQ_CLS, r=config.lora_r, lora_alpha=config.lora_alpha,
                          lora_dropout=config.lora_dropout,
                          target_modules="all-linear" if targets == ["all-linear"] else targets)
        try:
            model = get_peft_model(model, lora)
        except ValueError as exc:
            raise UserError(f"LoRA target modules {targets} do not match this model ({exc}). "
                            f"Use 'all-linear' or names such as query, value.") from exc
    return model


def _class_weights(train: pd.DataFrame, n_labels: int, mode: str) -> torch.Tensor | None:
    counts = np.bincount(train["label"].to_numpy(), minlength=n_labels).astype(np.float64)
    present = counts[counts > 0]
    if mode == "off" or (mode == "auto" and present.max() <= 3 * present.min()):
        return None
    weights = np.where(counts > 0, counts.sum() / (n_labels * np.maximum(counts, 1)), 0.0)
    return torch.tensor(weights, dtype=torch.float32)


def _latest_checkpoint(run: Run) -> Path | None:
    """The newest complete checkpoint, to resume an interrupted run from."""
    folder = run.path("checkpoints")
    if not folder.is_dir():
        return None
    # A worker killed mid-save leaves a checkpoint without trainer_state.json (written last): skip it.
    complete = [p for p in folder.glob("checkpoint-*") if (p / "trainer_state.json").exists()]
    return max(complete, key=lambda p: int(p.name.split("-")[-1]), default=None)


def _make_callback(reporter: Reporter, batch: int, started: float):
    from transformers import TrainerCallback

    class RunCallback(TrainerCallback):
        """Turns the Trainer's log events into metrics.jsonl lines and live progress."""

        def _timing(self, state) -> dict:
            elapsed = time.time() - started
            done = state.global_step / max(1, state.max_steps)
            eta = elapsed * (1 - done) / done if done > 0 else None
            return {"step": state.global_step, "max_steps": state.max_steps, "epoch": round(state.epoch or 0.0, 4),
                    "elapsed_s": round(elapsed, 2), "eta_s": None if eta is None else round(eta, 1)}

        def on_step_end(self, args, state, control, **kwargs):
            reporter.progress(self._timing(state))

        def on_log(self, args, state, control, logs=None, **kwargs):
            logs = dict(logs or {})
            timing = self._timing(state)
            if "train_runtime" in logs:
                event = {"type": "summary", **timing, "train_runtime_s": logs.get("train_runtime"),
                         "train_loss": logs.get("train_loss"),
                         "samples_per_second": logs.get("train_samples_per_second")}
            elif any(k.startswith("eval_") for k in logs):
                event = {"type": "eval", **timing, "eval_loss": logs.get("eval_loss")}
                for key in ("accuracy", "macro_f1", "weighted_f1", "precision", "recall"):
                    event[key] = logs.get(f"eval_{key}")
            else:
                seen = state.global_step * batch * world_size()
                event = {"type": "train", **timing, "loss": logs.get("loss"), "learning_rate": logs.get("learning_rate"),
                         "grad_norm": logs.get("grad_norm"),
                         "samples_per_second": round(seen / max(timing["elapsed_s"], 1e-6), 1)}
            reporter.event({k: v for k, v in event.items() if v is not None})
            reporter.progress(timing, force=True)

    return RunCallback()


def _out_of_memory(exc: BaseException) -> bool:
    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc).lower()


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
    batch = config.batch_size or batch_size_for(hw)
    started = time.time()
    reporter.state("running", **this_process(), hardware=hw.describe(), phase="loading model", error=None)
    try:
        summary = _train(run, config, train, validation, test, labels, reporter, hw, batch, resume, started)
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
        if _out_of_memory(exc):
            message = (f"Out of memory with batch size {batch} and max length {config.max_length}. "
                       f"Start again with batch size {max(1, batch // 2)} (or a shorter max length).")
            reporter.state("failed", error=message)
            raise UserError(message) from exc
        reporter.state("failed", error=f"Training crashed: {type(exc).__name__}: {exc}. See train.log in the run.")
        raise
    reporter.state("succeeded", phase="done", **summary)
    return run.status()


def _train(run: Run, config: TrainConfig, train: pd.DataFrame, validation: pd.DataFrame, test: pd.DataFrame | None,
           labels: list[str], reporter: Reporter, hw: Hardware, batch: int, resume: bool, started: float) -> dict:
    from transformers import AutoTokenizer, EarlyStoppingCallback, Trainer, TrainingArguments, set_seed

    set_seed(config.seed)
    model_path = resolve_model(config.model)
    tokenizer = AutoTokenizer.from_pretrained(model_path, trust_remote_code=False)
    model = _build_model(config, model_path, labels)
    limit = model_max_length(tokenizer, getattr(model, "config", None))
    max_length = min(config.max_length or limit, limit)
    precision = precision_for(hw, config.precision)
    reporter.phase("tokenizing")
    train_ds, val_ds = _tokenize(tokenizer, train, max_length), _tokenize(tokenizer, validation, max_length)
    weights = _class_weights(train, len(labels), config.class_weights)
    steps_per_epoch = math.ceil(len(train_ds) / (batch * world_size()))
    eval_steps = max(1, steps_per_epoch // config.evals_per_epoch)
    total_steps = math.ceil(steps_per_epoch * config.epochs)
    args = TrainingArguments(
        output_dir=str(run.path("checkpoints")), per_device_train_batch_size=batch,
        per_device_eval_batch_size=batch * 4, num_train_epochs=config.epochs, learning_rate=config.lr,
        warmup_steps=config.warmup_ratio, weight_decay=config.weight_decay, lr_scheduler_type="linear",
        eval_strategy="steps", eval_steps=eval_steps, save_strategy="steps", save_steps=eval_steps,
        save_total_limit=2, load_best_model_at_end=True, metric_for_best_model="macro_f1", greater_is_better=True,
        logging_steps=max(1, min(eval_steps, total_steps // 50)), logging_first_step=True,
        bf16=precision == "bf16", fp16=precision == "fp16", use_cpu=hw.device == "cpu", seed=config.seed,
        train_sampling_strategy="group_by_length", report_to="none", disable_tqdm=True, log_level="warning",
        dataloader_num_workers=0, ddp_find_unused_parameters=False)

    def weighted_loss(outputs, labels_, num_items_in_batch=None):
        return torch.nn.functional.cross_entropy(outputs.logits.float(), labels_,
                                                 weight=weights.to(outputs.logits.device))

    def compute_metrics(prediction):
        return scores(prediction.label_ids, np.asarray(prediction.predictions).argmax(-1))

    from transformers import DataCollatorWithPadding, PrinterCallback

    callbacks = [_make_callback(reporter, batch, started)]
    if config.early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience))
    trainer = Trainer(model=model, args=args, train_dataset=train_ds, eval_dataset=val_ds, processing_class=tokenizer,
                      data_collator=DataCollatorWithPadding(tokenizer, pad_to_multiple_of=8),
                      compute_metrics=compute_metrics, callbacks=callbacks,
                      compute_loss_func=weighted_loss if weights is not None else None)
    trainer.remove_callback(PrinterCallback)  # our callback prints the same events once, compactly
    checkpoint = _latest_checkpoint(run) if resume else None
    if checkpoint and reporter.main:
        _drop_events_after(run, int(checkpoint.name.split("-")[-1]))
    reporter.run.update_status(config_resolved={"batch_size": batch, "max_length": max_length, "precision": precision,
                                                "learning_rate": config.lr, "class_weights": weights is not None,
                                                "total_steps": total_steps, "world_size": world_size()})
    reporter.phase("training")
    train_started = time.time()
    result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    train_seconds = time.time() - train_started
    summary = {"train_seconds": round(train_seconds, 1),
               "samples_per_second": round(result.metrics.get("train_samples_per_second", 0.0), 1),
               "best_checkpoint_step": _step_of(trainer.state.best_model_checkpoint)}
    if not reporter.main:
        return summary
    reporter.phase("evaluating")
    model = trainer.model
    evaluation, probs = _evaluate(model, tokenizer, validation, labels, max_length)
    _write_eval_predictions(run.dir, validation["text"], validation["label"].to_numpy(), probs, labels)
    write_json_atomic(run.path("evaluation.json"), evaluation)
    summary["best"] = evaluation["scores"]
    if test is not None and len(test):
        summary["test"] = _evaluate(model, tokenizer, test, labels, max_length)[0]["scores"]
    reporter.phase("saving model")
    _save_model(trainer.model, tokenizer, run, config)
    reporter.phase("baseline")
    summary["baseline"] = _fit_baseline(model_path, tokenizer, train, validation, labels, max_length, hw,
                                        balanced=weights is not None, run=run)
    shutil.rmtree(run.path("checkpoints"), ignore_errors=True)
    summary["base_model_name"] = display_name(config.model)
    return summary


def _step_of(checkpoint: str | None) -> int | None:
    return int(checkpoint.rsplit("-", 1)[-1]) if checkpoint else None


def _drop_events_after(run: Run, step: int) -> None:
    """On resume, forget events logged after the checkpoint: they will be logged again."""
    kept = [e for e in run.metrics() if e.get("step", 0) <= step]
    write_text = "".join(json.dumps(e) + "\n" for e in kept)
    run.path("metrics.jsonl").write_text(write_text)


def _evaluate(model, tokenizer, validation: pd.DataFrame, labels: list[str], max_length: int) -> tuple[dict, np.ndarray]:
    """Score the restored best model on validation, in the data's own row order."""
    from .predict import batched_probabilities

    was_training = model.training
    model.eval()
    probs = batched_probabilities(model, tokenizer, validation["text"].tolist(), max_length, batch_size=128)
    model.train(was_training)
    truth, predicted = validation["label"].to_numpy(), probs.argmax(-1)
    return {"labels": labels, "scores": scores(truth, predicted), "per_class": per_class(truth, predicted, labels),
            "confusion": confusion(truth, predicted, len(labels))}, probs


def _write_eval_predictions(run_dir: Path, texts, truth, probs, labels: list[str]) -> None:
    predicted = probs.argmax(-1)
    with open(run_dir / "eval_predictions.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "true_label", "predicted_label", "confidence"])
        for text, t, p, conf in zip(texts, truth, predicted, probs.max(-1)):
            writer.writerow([text, labels[t], labels[p], f"{conf:.4f}"])


def _save_model(model, tokenizer, run: Run, config: TrainConfig) -> None:
    """``model/`` always loads with ``pipeline("text-classification")``; LoRA also keeps ``adapter/``."""
    if config.method == "lora":
        model.save_pretrained(run.path("adapter"))
        tokenizer.save_pretrained(run.path("adapter"))
        model = model.merge_and_unload()
    model.save_pretrained(run.model_dir, safe_serialization=True)
    tokenizer.save_pretrained(run.model_dir)


def _fit_baseline(model_path: str, tokenizer, train: pd.DataFrame, validation: pd.DataFrame, labels: list[str],
                  max_length: int, hw: Hardware, balanced: bool, run: Run) -> dict:
    from transformers import AutoModel

    device = "cuda" if hw.device == "cuda" else "cpu"
    encoder = AutoModel.from_pretrained(model_path, trust_remote_code=False, use_safetensors=True).to(device).eval()
    sample = train.sample(n=min(len(train), 20000), random_state=0)
    features = embed(sample["text"].tolist(), encoder, tokenizer, max_length, device=device)
    baseline = Baseline.fit(features, sample["label"].to_numpy(), len(labels), balanced, max_length)
    result = baseline.evaluate(embed(validation["text"].tolist(), encoder, tokenizer, max_length, device=device),
                               validation["label"].to_numpy())
    run.path("baseline").mkdir(exist_ok=True)
    baseline.save(run.path("baseline") / "baseline.json")
    return result
