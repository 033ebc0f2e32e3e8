"""Which training method ``auto`` means for this data: setfit for few rows per class, full fine-tuning otherwise.

Measured on real data (BENCHMARKS.md, ``bench/bench_small.py``, test accuracy over 3 seeds): with up to
128 labeled rows per class, SetFit's contrastive training beats cross-entropy fine-tuning on data with a few
classes (TREC, 6 classes, 8 rows each: 0.79 vs 0.69; SST-2, 128 rows each: 0.777 vs 0.734). It costs 40 pairs per
row, about 10x the time of full fine-tuning on a CPU, so on a CPU auto bounds it at SETFIT_AUTO_MAX_ROWS training
rows (x 40 pairs: about 10 minutes on 2 CPU cores); ``method=setfit`` takes it past that. On a GPU the bounds on
classes and rows per class alone keep it within 51,200 pairs (10 x 128 rows), minutes there, so auto picks it for
every such slice (TREC at 128 rows per class, 690 rows: 0.936 vs 0.902 for full). With many classes it loses
(Banking77, 77 classes, 8 rows each: 0.807 vs 0.827, and 12x
slower on a CPU). Multi-label data always gets full fine-tuning (its contrastive pairs are not measured here).
"""

from __future__ import annotations

import statistics

from trainer.config import TrainConfig
from trainer.training.schedule import ITERATIONS
from trainer.errors import UserError

SETFIT_MAX_PER_CLASS = 128  # median training rows per class up to which auto picks setfit (measured up to 128)
SETFIT_AUTO_MAX_ROWS = 300  # bounds auto's setfit runs to 12,000 pairs, for time: about 10 minutes on 2 CPU cores
SETFIT_MAX_CLASSES = 10  # measured better on 2-6 classes; on Banking77's 77 worse than full, and 12x slower


def choose_method(config: TrainConfig, report: dict, on_gpu: bool = False) -> tuple[str, str]:
    """(method, why) for a validated dataset's report (``data_report.json``); ``on_gpu``: the run will train on a
    GPU, which lifts the bound for time on a CPU."""
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
    if per_class > SETFIT_MAX_PER_CLASS:
        return "full", (f"full: auto, since the classes have about {per_class:g} training rows each (more than "
                        f"{SETFIT_MAX_PER_CLASS}: setfit was measured better only up to there, and fine-tuning is "
                        f"about 10x faster)")
    pairs = 2 * ITERATIONS  # per training row
    if n_train > SETFIT_AUTO_MAX_ROWS and not on_gpu:
        return "full", (f"full: auto, since {n_train:,} training rows would give setfit {pairs * n_train:,} pairs "
                        f"to train on, over auto's bound of {pairs * SETFIT_AUTO_MAX_ROWS:,} (about 10 minutes on 2 "
                        f"CPU cores); choose method setfit to train it anyway (measured better up to "
                        f"{SETFIT_MAX_PER_CLASS} rows per class, and about 10x slower)")
    return "setfit", (f"setfit: auto, since the classes have about {per_class:g} training rows each (up to "
                      f"{SETFIT_MAX_PER_CLASS}, SetFit's contrastive training measured better than fine-tuning)")


def resolve_method(config: TrainConfig, report: dict, on_gpu: bool = False) -> str:
    """Write the chosen method into a run's config; return why (the run's status keeps it as ``method_choice``)."""
    config.method, why = choose_method(config, report, on_gpu)
    return why
