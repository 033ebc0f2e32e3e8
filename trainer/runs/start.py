"""The one way a run is prepared, for the app (service.py), the CLI (cli.py) and the benchmarks (bench/).

Preparing reads and checks the data with the run's settings, resolves what "auto" left open (max length,
the task and its label columns, the method) and writes the run directory the worker trains from:
``config.json`` (the resolved settings), ``labels.json``, ``data_report.json`` and ``data/`` (the prepared
splits). Whoever starts a run, the same inputs give the same ``config.json`` (tests/test_settings.py).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from trainer.config import TrainConfig
from trainer.intake.data import Intake, IntakeLimits, load_dataset_file
from trainer.intake.label_sets import resolve_labels
from trainer.training.method_choice import resolve_method
from trainer.runs.store import Run, write_json_atomic


@dataclass
class Prepared:
    """A validated dataset and the settings resolved for it: what a run directory is written from."""

    config: TrainConfig
    intake: Intake
    method_choice: str  # why the method is what it is (the run's status keeps it)
    dataset: str  # the file's name, as the run list shows it


def prepare_run(path: str | Path, config: TrainConfig, validation_file: str | Path | None = None,
                limits: IntakeLimits | None = None, on_gpu: bool = False) -> Prepared:
    """Read the data with the run's settings and resolve the settings left to auto; ``config`` is not changed."""
    config = TrainConfig.from_dict(config.to_dict())
    config.check_hardware("cuda" if on_gpu else "cpu")
    intake = load_dataset_file(path, text_column=config.text_column, label_column=config.label_column,
                               validation_file=validation_file or None, model=config.model,
                               validation_fraction=config.validation_fraction, seed=config.seed, limits=limits,
                               task=config.task, label_delimiter=config.label_delimiter,
                               label_columns=config.label_columns)
    if config.max_length is None:
        config.max_length = intake.report.length["suggested_max_length"]
    resolve_labels(config, intake.report)
    why = resolve_method(config, intake.report.to_dict(), on_gpu)
    config.validate()  # the resolved method against the other settings (LoRA options only with LoRA)
    return Prepared(config, intake, why, Path(path).name)


def write_run(run: Run, prepared: Prepared) -> None:
    """The files a worker trains from (the registry row and status are the run store's)."""
    run.dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(run.path("config.json"), prepared.config.to_dict())
    write_json_atomic(run.path("labels.json"), prepared.intake.labels)
    write_json_atomic(run.path("data_report.json"), prepared.intake.report.to_dict())
    prepared.intake.save(run.path("data"))
    run.update_status(method_choice=prepared.method_choice)


def reproduce_command(run: Run) -> str:
    """The command that trains this run's settings (its ``config.json``) on the same file, elsewhere."""
    dataset = run.status().get("dataset") or "data.csv"
    return f"python -m trainer train --config config.json --data {shlex.quote(dataset)}"
