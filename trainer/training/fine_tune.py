"""The full and lora methods: ``transformers.Trainer`` on a warm-started model, early stopping on validation.

Built on ``transformers.Trainer`` (so ``accelerate launch`` data parallelism, mixed
precision, checkpoints and resume come from the library) with dynamic padding and
length-grouped batches. What every method receives (``Fitting``) and records about its
choices (``record_choices``) lives here too; the setfit method is in contrastive.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from trainer.config import TrainConfig
from trainer.training import cancel
from trainer.errors import UserError
from trainer.runs.hardware import Hardware
from trainer.training.mean_pooling import layer_name
from trainer.training.run_progress import Reporter, make_callback, world_size
from trainer.runs.store import STOP_REQUEST, Run
from trainer.training.schedule import Schedule
from trainer.training.warm_start import head_layer


@dataclass
class Fitting:
    """What a training method gets: the run, its data and settings, the warm-started model and the task."""

    run: Run
    config: TrainConfig
    model: object
    tokenizer: object
    model_path: str
    train: pd.DataFrame
    validation: pd.DataFrame
    labels: list[str]
    task: object
    reporter: Reporter
    hw: Hardware
    schedule: Schedule
    resume: bool
    started: float
    max_length: int
    precision: str
    pooling_layer: object
    weights: torch.Tensor | None


def record_choices(f: Fitting, **extra) -> None:
    """Every choice the run made, for the Train tab, the status and the card."""
    if f.reporter.main:
        schedule = f.schedule.to_dict()
        schedule["why"] = {"method": f.run.status().get("method_choice") or "set by you", **schedule["why"]}
        f.run.update_status(config_resolved={
            **schedule, "method": f.config.method, "task": f.task.title, "max_length": f.max_length,
            "precision": f.precision, "class_weights": f.weights is not None, "head_init": f.config.head_init,
            "pooling": "mean" if f.pooling_layer is not None else "model default", "world_size": world_size(),
            **extra})


def _arguments(f: Fitting):
    """``TrainingArguments`` of the run's schedule: evaluations and checkpoints every ``eval_steps``, the best kept."""
    from transformers import TrainingArguments

    schedule, config, batch = f.schedule, f.config, f.schedule.batch_size
    return TrainingArguments(
        output_dir=str(f.run.path("checkpoints")), per_device_train_batch_size=batch,
        per_device_eval_batch_size=batch * 4, num_train_epochs=schedule.epochs, learning_rate=schedule.learning_rate,
        warmup_steps=config.warmup_ratio, weight_decay=config.weight_decay, lr_scheduler_type=config.lr_scheduler,
        eval_strategy="steps", eval_steps=schedule.eval_steps, save_strategy="steps", save_steps=schedule.eval_steps,
        save_total_limit=2, load_best_model_at_end=True, metric_for_best_model="macro_f1", greater_is_better=True,
        logging_steps=max(1, min(schedule.eval_steps, schedule.total_steps // 50)), logging_first_step=True,
        bf16=f.precision == "bf16", fp16=f.precision == "fp16", use_cpu=f.hw.device == "cpu", seed=config.seed,
        train_sampling_strategy="group_by_length", report_to="none", disable_tqdm=True, log_level="warning",
        dataloader_num_workers=0, ddp_find_unused_parameters=False)


def _say_why_it_ended(f: Fitting, state) -> None:
    """A run that ended before its last step says why: the user's stop, or early stopping (and how to turn it off)."""
    if f.run.path(STOP_REQUEST).exists():
        f.reporter.say(f"stopped by you at step {state.global_step}: keeping the best model so far")
    elif state.global_step < state.max_steps and f.config.early_stopping_patience and not cancel.requested():
        f.reporter.say(f"stopped early at step {state.global_step} of {state.max_steps}: validation macro-F1 did not "
                       f"improve for {f.config.early_stopping_patience} evaluations in a row (early stopping; set "
                       f"its patience to 0 to train every step)")


def fine_tune(f: Fitting):
    """The full and lora methods: ``transformers.Trainer`` with a warm-started head, early stopping on validation."""
    from transformers import EarlyStoppingCallback, Trainer

    run, config, model, tokenizer, labels, task, reporter = (f.run, f.config, f.model, f.tokenizer, f.labels, f.task,
                                                             f.reporter)
    schedule, weights, max_length = f.schedule, f.weights, f.max_length
    train_targets, truth = task.targets(f.train, len(labels)), task.targets(f.validation, len(labels))
    head = head_layer(model, len(labels))
    model = _prepare_for_method(config, model, f.pooling_layer)
    reporter.phase("tokenizing")
    train_ds, val_ds = (_tokenize(tokenizer, f.train, max_length, train_targets),
                        _tokenize(tokenizer, f.validation, max_length, truth))
    batch = schedule.batch_size
    args = _arguments(f)

    def weighted_loss(outputs, labels_, num_items_in_batch=None):
        """The task's weighted loss, a mean over this process's batch. Given ``num_items_in_batch``, Trainer
        multiplies a custom loss by the number of processes (it expects a sum over the global count, which DDP's
        gradient averaging divides back): undone here, or N processes train on an N times larger loss."""
        loss = task.loss(outputs.logits, labels_, weights)
        if num_items_in_batch is not None and args.average_tokens_across_devices and world_size() > 1:
            loss = loss / world_size()
        return loss

    def compute_metrics(prediction):
        """At the thresholds tuned on this evaluation (multi-label), so the best checkpoint is chosen as it is used."""
        probs, target = task.probabilities(np.asarray(prediction.predictions)), np.asarray(prediction.label_ids)
        return task.scores(target, probs, task.thresholds(target, probs, labels, config.thresholds), labels)

    from transformers import DataCollatorWithPadding, PrinterCallback

    progress = make_callback(reporter, batch, f.started, task.eval_keys)
    callbacks = [progress]
    if config.early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience))
    optimizer = _optimizer(model, schedule, config.weight_decay, head[0] if head else None)
    trainer = Trainer(model=model, args=args, train_dataset=train_ds, eval_dataset=val_ds, processing_class=tokenizer,
                      data_collator=DataCollatorWithPadding(tokenizer, pad_to_multiple_of=8),
                      compute_metrics=compute_metrics, callbacks=callbacks, optimizers=(optimizer, None),
                      compute_loss_func=weighted_loss if weights is not None else None)
    trainer.remove_callback(PrinterCallback)  # our callback prints the same events once, compactly
    checkpoint = _latest_checkpoint(run) if f.resume else None
    if checkpoint and reporter.main:
        run.keep_events_until(int(checkpoint.name.split("-")[-1]))
    record_choices(f)
    reporter.phase("training")
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    _say_why_it_ended(f, trainer.state)
    summary = {"stopped_at_step": trainer.state.global_step if run.path(STOP_REQUEST).exists() else None,
               **progress.summary(trainer.state), "best_checkpoint_step": _step_of(trainer.state.best_model_checkpoint)}
    return trainer.model, summary


def _tokenize(tokenizer, frame: pd.DataFrame, max_length: int, targets: np.ndarray):
    from datasets import Dataset

    encoded = tokenizer(frame["text"].tolist(), truncation=True, max_length=max_length)
    columns = {k: encoded[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in encoded}
    columns["labels"] = targets.tolist()  # class ids, or multi-hot float rows for multi-label runs
    return Dataset.from_dict(columns)


def _prepare_for_method(config: TrainConfig, model, pooling_layer=None):
    """Freeze the word embeddings (full) or wrap in LoRA adapters, after the head was warm-started."""
    if config.method == "full" and config.freeze_embeddings:
        # The word-embedding matrix is the largest tensor of a small encoder (11.7M of MiniLM's 22.7M weights);
        # its dense AdamW update costs a large share of each CPU step and barely moves accuracy.
        model.get_input_embeddings().weight.requires_grad_(False)
    if config.method == "lora":
        from peft import LoraConfig, TaskType, get_peft_model

        targets = config.lora_target_modules
        frozen = rf"{re.escape(layer_name(model, pooling_layer))}\..*" if pooling_layer is not None else None
        lora = LoraConfig(task_type=TaskType.SEQ_CLS, r=config.lora_r, lora_alpha=config.lora_alpha,
                          lora_dropout=config.lora_dropout, exclude_modules=frozen,
                          target_modules="all-linear" if targets == ["all-linear"] else targets)
        try:
            model = get_peft_model(model, lora)
        except ValueError as exc:
            raise UserError(f"LoRA target modules {targets} do not match this model ({exc}). "
                            f"Use 'all-linear' or names such as query, value.") from exc
    return model


def _optimizer(model, schedule: Schedule, weight_decay: float, head_name: str | None):
    """AdamW with the head (when found) on its own learning rate; no weight decay on biases and LayerNorm weights."""
    groups: dict[tuple[bool, bool], list] = {}
    head_prefix = head_name.split(".")[0] if head_name else None
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        is_head = head_prefix is not None and f".{head_prefix}." in f".{name}"
        decay = param.dim() >= 2
        groups.setdefault((is_head, decay), []).append(param)
    return torch.optim.AdamW([{"params": params, "weight_decay": weight_decay if decay else 0.0,
                               "lr": schedule.head_learning_rate if is_head else schedule.learning_rate}
                              for (is_head, decay), params in groups.items()], lr=schedule.learning_rate)


def _latest_checkpoint(run: Run) -> Path | None:
    """The newest complete checkpoint, to resume an interrupted run from."""
    folder = run.path("checkpoints")
    if not folder.is_dir():
        return None
    # A worker killed mid-save leaves a checkpoint without trainer_state.json (written last): skip it.
    complete = [p for p in folder.glob("checkpoint-*") if (p / "trainer_state.json").exists()]
    return max(complete, key=lambda p: int(p.name.split("-")[-1]), default=None)


def _step_of(checkpoint: str | None) -> int | None:
    return int(checkpoint.rsplit("-", 1)[-1]) if checkpoint else None
