"""Which training method ``auto`` means for this data: setfit for few rows per class, full fine-tuning otherwise.

Measured on real data (BENCHMARKS.md, ``bench/bench_small.py``, test accuracy over 3 seeds): with up to
a few dozen labeled rows per class, SetFit's contrastive training beats cross-entropy fine-tuning
on data with a few classes (TREC, 6 classes, 8 rows each: 0.79 vs 0.69); with more rows the gap closes while
contrastive training costs 40 pairs per row (a few times slower), so full fine-tuning takes over. With many classes
it loses (Banking77, 77 classes, 8 rows each: 0.807 vs 0.827, and 12x slower on a CPU). Multi-label data always
gets full fine-tuning (its contrastive pairs are not measured here).
"""

from __future__ import annotations

import statistics

from .config import TrainConfig
from .contrastive import MAX_ROWS
from .errors import UserError

SETFIT_MAX_PER_CLASS = 32  # median training rows per class up to which auto picks setfit (measured up to 32)
SETFIT_MAX_CLASSES = 10  # measured better on 2-6 classes; on Banking77's 77 worse than full, and 12x slower


def choose_method(config: TrainConfig, report: dict) -> tuple[str, str]:
    """(method, why) for a validated dataset's report (``data_report.json``)."""
    if config.method == "setfit" and report.get("task") == "multi":
        raise UserError("The setfit method is for single-label data, and this file has several labels per text: "
                        "use method auto or full (or lora).")
    if config.method != "auto":
        return config.method, "set by you"
    counts = [c["train"] for c in (report.get("class_counts") or {}).values() if c.get("train")]
    n_train = int((report.get("split_sizes") or {}).get("train", sum(counts)))
    if report.get("task") == "multi":
        return "full", "full: auto picks full fine-tuning for multi-label data"
    if config.gpus > 1:
        return "full", "full: auto picks full fine-tuning for a data-parallel run (setfit trains on one GPU)"
    per_class = statistics.median(counts) if counts else 0
    if len(counts) > SETFIT_MAX_CLASSES:
        return "full", (f"full: auto picks full fine-tuning for more than {SETFIT_MAX_CLASSES} classes (here "
                        f"{len(counts)}: pairs of rows teach little about each of many classes, measured)")
    if per_class <= SETFIT_MAX_PER_CLASS and n_train <= MAX_ROWS:
        return "setfit", (f"setfit: auto, since the classes have about {per_class:g} training rows each (up to "
                          f"{SETFIT_MAX_PER_CLASS}, SetFit's contrastive training measured better than fine-tuning)")
    return "full", (f"full: auto, since the classes have about {per_class:g} training rows each (more than "
                    f"{SETFIT_MAX_PER_CLASS}: setfit was measured better only up to there, and fine-tuning is several "
                    f"times faster)"
                    if per_class > SETFIT_MAX_PER_CLASS else
                    f"full: auto, since {n_train:,} training rows are more than setfit's {MAX_ROWS:,}")


def resolve_method(config: TrainConfig, report: dict) -> str:
    """Write the chosen method into a run's config; return why (the run's status keeps it as ``method_choice``)."""
    config.method, why = choose_method(config, report)
    return why
