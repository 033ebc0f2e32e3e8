"""The classification task of a run, one module per task behind one seam.

A run is single-label (one class per text: softmax, cross-entropy, accuracy) or
multi-label (a set of labels per text: sigmoid per label, binary cross-entropy, tuned
decision thresholds, micro / macro / samples F1). Intake decides it (label_sets.py),
the run's config carries it (``task``), and training, evaluation, the baseline,
prediction and the card ask the task object instead of branching on it. Each task
supplies the same parts: label targets, the model's ``problem_type``, the loss and its
weights, the linear probe, thresholds, metrics, the evaluation file, prediction rows
and decoded predictions.
"""

from __future__ import annotations

from .multi_label import MultiLabel
from .single_label import SingleLabel

TASKS = {"single": SingleLabel(), "multi": MultiLabel()}


def get_task(name: str | None):
    """The task object for ``"single"`` or ``"multi"`` (anything else, as in runs made before tasks: single)."""
    return TASKS.get(name or "single", TASKS["single"])


def task_of(config: dict):
    """The task of a run from its config (``config.json`` or ``TrainConfig.to_dict()``)."""
    return get_task(config.get("task"))
