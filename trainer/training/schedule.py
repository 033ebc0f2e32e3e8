"""How long and how fast to train, chosen from the data's size; every choice is recorded with its reason.

Three epochs of a few hundred rows are a few dozen optimisation steps: too few to move
an encoder (measured: 64 SST-2 rows gave 0.55 accuracy, below the frozen baseline).
So, unless the user sets them, the number of epochs is chosen to give at least
``MIN_STEPS`` steps (up to ``MAX_AUTO_EPOCHS``), small data trains in smaller batches
(more, noisier steps), and evaluations are spread so that a run has at most
``MAX_EVALS`` of them, early stopping keeping the best.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from trainer.config import TrainConfig
from trainer.errors import UserError
from trainer.runs.hardware import Hardware, batch_size_for

MIN_STEPS = 300
MIN_EPOCHS, MAX_AUTO_EPOCHS = 3, 40
SMALL_DATA_ROWS, SMALL_BATCH = 2000, 16
MAX_EVALS = 20
HEAD_LR_FACTOR = 10  # the head is one small, warm-started layer: it tolerates (and needs) larger steps than the body


@dataclass
class Schedule:
    batch_size: int
    epochs: float
    learning_rate: float
    head_learning_rate: float
    steps_per_epoch: int
    total_steps: int
    eval_steps: int
    why: dict

    def to_dict(self) -> dict:
        return asdict(self)


def plan(config: TrainConfig, n_train: int, hw: Hardware, world_size: int = 1) -> Schedule:
    if config.method == "setfit":  # pairs, not epochs over rows
        return plan_contrastive(config, n_train)
    why = {}
    if config.batch_size:
        batch, why["batch_size"] = config.batch_size, "set by you"
    elif n_train < SMALL_DATA_ROWS:
        batch = SMALL_BATCH
        why["batch_size"] = f"{SMALL_BATCH}: fewer than {SMALL_DATA_ROWS:,} training rows, so smaller batches give more steps"
    else:
        batch = batch_size_for(hw)
        why["batch_size"] = f"{batch}: the default for {'this GPU' if hw.device == 'cuda' else 'the CPU'}"
    steps_per_epoch = max(1, math.ceil(n_train / (batch * world_size)))
    if config.epochs:
        epochs, why["epochs"] = float(config.epochs), "set by you"
    else:
        needed = math.ceil(MIN_STEPS / steps_per_epoch)
        epochs = float(min(MAX_AUTO_EPOCHS, max(MIN_EPOCHS, needed)))
        why["epochs"] = (f"{epochs:g}: at least {MIN_STEPS} optimisation steps ({steps_per_epoch} per epoch), "
                         f"between {MIN_EPOCHS} and {MAX_AUTO_EPOCHS} epochs; early stopping ends it sooner "
                         f"when validation macro-F1 stops improving")
    total_steps = math.ceil(steps_per_epoch * epochs)
    per_epoch = max(1, steps_per_epoch // config.evals_per_epoch)
    eval_steps = max(per_epoch, math.ceil(total_steps / MAX_EVALS))
    why["eval_steps"] = f"every {eval_steps} steps: {config.evals_per_epoch} per epoch, at most {MAX_EVALS} per run"
    lr = config.lr
    why["learning_rate"] = "set by you" if config.learning_rate else f"{lr:g}: the default for {config.method}"
    head_lr = config.head_learning_rate or (lr * HEAD_LR_FACTOR if config.method == "full" else lr)
    why["head_learning_rate"] = ("set by you" if config.head_learning_rate else
                                 f"{head_lr:g}: {HEAD_LR_FACTOR}x the body's" if config.method == "full" else
                                 f"{head_lr:g}: as the adapters'")
    return Schedule(batch_size=batch, epochs=epochs, learning_rate=lr, head_learning_rate=head_lr,
                    steps_per_epoch=steps_per_epoch, total_steps=total_steps, eval_steps=eval_steps, why=why)


# The setfit method (contrastive.py) trains on pairs of rows; its schedule is planned here, with the others,
# so that planning a run (the Train tab, estimates, auto) never imports a training engine.
ITERATIONS = 20  # SetFit's paper setting: 20 positive and 20 negative pairs per training row
PAIR_BATCH = 16  # SetFit's default embedding batch size
MAX_STEPS = 4000  # 64,000 pairs: about an hour on 2 CPU cores (minutes on a GPU); more rows get fewer pairs each
MAX_ROWS = 5000  # the sampler enumerates every pair of rows; past this, full fine-tuning is the method anyway
EVALUATIONS = 5  # validation scores plotted during training (a logistic regression on the current embeddings)


def plan_contrastive(config: TrainConfig, n_train: int) -> Schedule:
    """Pairs, steps and learning rate of a contrastive run, each with its reason."""
    if n_train > MAX_ROWS:
        raise UserError(f"The setfit method trains on pairs of rows and is for small data (up to {MAX_ROWS:,} "
                        f"training rows); this run has {n_train:,}. Use method full (or lora, or auto).")
    why = {}
    batch = config.batch_size or PAIR_BATCH
    why["batch_size"] = "set by you" if config.batch_size else f"{PAIR_BATCH} pairs: SetFit's default"
    pairs = 2 * ITERATIONS * n_train
    steps = math.ceil(pairs / batch)
    if config.epochs:
        steps = math.ceil(steps * config.epochs)
        why["epochs"] = "set by you (passes over the sampled pairs)"
    else:
        why["epochs"] = (f"1 pass over {pairs:,} pairs: {ITERATIONS} with the same label and {ITERATIONS} with "
                         f"another for each of the {n_train:,} training rows (SetFit's paper setting)")
    if steps > MAX_STEPS:
        why["epochs"] += f"; capped at {MAX_STEPS:,} steps to bound the run's time"
        steps = MAX_STEPS
    lr = config.lr
    why["learning_rate"] = "set by you" if config.learning_rate else f"{lr:g}: SetFit's default for the encoder"
    why["head_learning_rate"] = "none: the head is a logistic regression fitted on the tuned embeddings"
    eval_steps = max(1, math.ceil(steps / EVALUATIONS))
    why["eval_steps"] = (f"every {eval_steps} steps: a logistic regression on the current embeddings is scored on "
                         f"validation (no early stopping; SetFit keeps the last encoder)")
    return Schedule(batch_size=batch, epochs=round(steps * batch / max(1, pairs), 4), learning_rate=lr,
                    head_learning_rate=lr, steps_per_epoch=math.ceil(pairs / batch), total_steps=steps,
                    eval_steps=eval_steps, why=why)
