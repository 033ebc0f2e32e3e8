"""``python -m trainer``: validate, train, predict, and the app's worker entry point.

User errors print one line (``error: ...``) and exit 2; no traceback. ``train`` also
runs under ``accelerate launch --num_processes N -m trainer train ...`` and honours
SageMaker's training-job environment (``SM_CHANNEL_TRAIN``, ``SM_CHANNEL_VALIDATION``,
``SM_MODEL_DIR``, ``SM_OUTPUT_DATA_DIR``, ``SM_NUM_GPUS``), so it can be a Hugging Face
estimator's ``entry_point``.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
from dataclasses import fields
from pathlib import Path

from trainer.cli_args import build_parser
from trainer.config import TrainConfig
from trainer.errors import UserError

EXIT_USER_ERROR = 2
EXIT_CANCELLED = 130


def _single_file(folder: str | None) -> str | None:
    """SageMaker hands a channel as a folder: use its one data file."""
    if not folder:
        return None
    files = sorted(p for p in Path(folder).iterdir() if p.is_file() and not p.name.startswith("."))
    if len(files) != 1:
        raise UserError(f"Channel folder {folder!r} must hold exactly one data file; it holds {len(files)}.")
    return str(files[0])


def cmd_validate(args) -> int:
    from trainer.intake.data import load_dataset_file

    labels = _label_options(args)
    intake = load_dataset_file(args.file, text_column=args.text_column, label_column=args.label_column,
                               validation_file=args.validation_file, model=args.model, task=labels.task,
                               label_delimiter=labels.delimiter, label_columns=labels.columns)
    print(json.dumps(intake.report.to_dict(), indent=2, ensure_ascii=False))
    return 0


def _columns(value: str | None) -> list[str] | None:
    return [c.strip() for c in value.split(",") if c.strip()] or None if value else None


def _label_options(args):
    from trainer.intake.label_sets import LabelOptions

    return LabelOptions(args.task, args.label_delimiter or None, _columns(args.label_columns))


def cmd_label_errors(args) -> int:
    import pandas as pd

    from trainer.intake.data_fixes import write_table
    from trainer.quality.label_errors import corrected_file, label_errors_in_file
    from trainer.intake.spreadsheet import safe_rows

    limits = None
    if args.app_limits:
        from trainer.service import intake_limits

        limits = intake_limits()
    result = label_errors_in_file(args.file, args.text_column, args.label_column, model=args.model,
                                  labels=_label_options(args), limits=limits)
    if args.format == "json":
        text = json.dumps(result.to_dict(limit=args.top or None), indent=2, ensure_ascii=False)
    else:
        text = pd.DataFrame(safe_rows(result.rows[:args.top or None])).to_csv(index=False)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"{result.note} Wrote {args.output}.")
    else:
        print(text)
    if args.corrected:
        from trainer.intake.data import read_table

        original, _, _ = read_table(args.file)  # the user's own rows, returned as they were (not formula-escaped)
        write_table(corrected_file(original, result, args.corrected_mode), Path(args.corrected))
    return 0


def _handoff(store) -> Path:
    """Where rank 0 leaves the run id for the other ranks: named after the launcher, their common parent."""
    return store.root / f"launch-{os.getppid()}-{os.environ.get('MASTER_PORT', '')}.json"


def _one_run_for_all_ranks(store, create):
    """Under ``accelerate launch`` or ``torchrun`` every rank runs this command: rank 0 creates the run, the
    others train into that one (one run, one writer of its files)."""
    import time

    from trainer.training.run_progress import is_main_process, world_size
    from trainer.runs.store import write_json_atomic

    if world_size() == 1:
        return create()
    if is_main_process():
        run = create()
        write_json_atomic(_handoff(store), {"run_id": run.id})
        return run
    deadline = time.time() + 600
    while not _handoff(store).exists():
        if time.time() > deadline:
            raise UserError("Rank 0 did not create the run within 10 minutes; see its output.")
        time.sleep(0.2)
    return store.get(json.loads(_handoff(store).read_text())["run_id"])


def _config_from(args) -> TrainConfig:
    """``--config FILE`` (a run's config.json: "reproduce this run"), with any flag given overriding it."""
    base = json.loads(Path(args.config).read_text()) if getattr(args, "config", None) else {}
    flags = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if getattr(args, f.name, None) is not None}
    return TrainConfig.from_dict({**base, **flags})


def cmd_job_run(args) -> int:
    from trainer.jobs.remote_run import main as job_main

    return job_main(args.data_repo, args.model_repo)


def cmd_hub_dataset(args) -> int:
    from trainer.intake.hub_data import READ_TOKEN_ENV, fetch_hub_dataset

    token = os.environ.pop(READ_TOKEN_ENV, None)
    print(fetch_hub_dataset(args.dataset_id, args.split, Path(args.output), args.max_rows, token, args.max_bytes))
    return 0


def cmd_batch_job_run(args) -> int:
    from trainer.batch.on_jobs import main as batch_job_main

    return batch_job_main(args.data_repo)


def cmd_train(args) -> int:
    data = args.data or _single_file(os.environ.get("SM_CHANNEL_TRAIN"))
    if not data:
        raise UserError("No training data: pass --data FILE (or run as a SageMaker job with a 'train' channel).")
    validation = args.validation_file or (_single_file(os.environ["SM_CHANNEL_VALIDATION"])
                                          if os.environ.get("SM_CHANNEL_VALIDATION") else None)
    config = _config_from(args)  # a mistyped setting is refused before the training engine is imported
    from trainer.runs.hardware import detect
    from trainer.runs.store import Run, RunStore
    from trainer.training.run_progress import is_main_process, world_size
    from trainer.runs.start import prepare_run, write_run
    from trainer.training.choice import chosen_model
    from trainer.training.train import run_training

    if config.where != "here":
        from trainer.jobs.terminal import train_on_jobs_here

        return train_on_jobs_here(data, validation, config)
    if config.gpus > 1 and world_size() == 1:
        raise UserError(f"--gpus {config.gpus}: from the command line, train data-parallel with "
                        f"accelerate launch --multi_gpu --num_processes {config.gpus} -m trainer train ...")
    prepared = prepare_run(data, config, validation, on_gpu=detect().device == "cuda")
    config, intake = prepared.config, prepared.intake
    output = args.output or (Path(os.environ["SM_OUTPUT_DATA_DIR"]) / "run" if os.environ.get("SM_OUTPUT_DATA_DIR") else None)
    store = None
    if output:
        run = Run(Path(output).resolve())
        if is_main_process():
            write_run(run, prepared)
            run.update_status(state="queued", owner="cli", dataset=prepared.dataset, model=config.model,
                              method=config.method)
    else:
        store = RunStore()

        def create():
            created = store.create("cli", prepared.dataset, config.to_dict())
            write_run(created, prepared)
            return created
        run = _one_run_for_all_ranks(store, create)
    if is_main_process():
        print(f"run directory: {run.dir}", flush=True)
    if args.dry_run:
        return 0
    try:
        status = run_training(run, config, intake.train, intake.validation, intake.labels, test=intake.test,
                              store=store, echo=True)
    finally:
        if store is not None and is_main_process():
            _handoff(store).unlink(missing_ok=True)
    if is_main_process():
        best, base = status.get("best", {}), status.get("baseline", {})
        second = "micro_f1" if config.task == "multi" else "accuracy"
        print(f"done: {second}={best.get(second, 0):.4f} macro_f1={best.get('macro_f1', 0):.4f} "
              f"(baseline {second}={base.get(second, 0):.4f} macro_f1={base.get('macro_f1', 0):.4f})\n"
              f"recommended: {chosen_model(status)}: {(status.get('recommended') or {}).get('message', '')}\n"
              f"use it: python -m trainer predict --model {run.dir} --input FILE --output OUT.csv", flush=True)
        if os.environ.get("SM_MODEL_DIR"):
            shutil.copytree(run.model_dir, os.environ["SM_MODEL_DIR"], dirs_exist_ok=True)
    return 0


def cmd_predict(args) -> int:
    from trainer.intake.data import read_table
    from trainer.predict import Classifier, run_classifier
    from trainer.intake.spreadsheet import safe_cell

    frame, info, _ = read_table(args.input)
    column = args.text_column or ("text" if "text" in frame.columns else None)
    if column is None or column not in frame.columns:
        raise UserError(f"Text column {column!r} not found in {info.name!r}; columns: {', '.join(frame.columns)}. "
                        f"Pass --text-column.")
    if (Path(args.model) / "status.json").is_file():  # a run folder: the model it recommends
        classifier, name = run_classifier(Path(args.model), args.use or None)
        print(f"using {name}: {'your choice' if args.use else 'what this run recommends'}")
    else:
        classifier = Classifier(args.model, batch_size=int(args.batch_size))
    texts = frame[column].fillna("").astype(str).tolist()
    results = []
    threshold = float(args.threshold) if args.threshold else None
    for start in range(0, len(texts), 4096):
        results.extend(classifier.predict(texts[start:start + 4096], top_k=1, threshold=threshold))
    multi = classifier.task.name == "multi"
    with open(args.output, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if multi:  # the label set, then one score column per label
            writer.writerow(["text", "labels", *(f"score_{safe_cell(label)}" for label in classifier.labels)])
            for text, result in zip(texts, results):
                writer.writerow([safe_cell(text), safe_cell("|".join(result["labels"])),
                                 *(f"{result['scores'][label]:.4f}" for label in classifier.labels)])
        else:
            writer.writerow(["text", "label", "confidence"])
            for text, result in zip(texts, results):
                writer.writerow([safe_cell(text), safe_cell(result["label"]), f"{result['confidence']:.4f}"])
    print(f"wrote {len(results)} predictions to {args.output}")
    return 0


def cmd_push(args) -> int:
    from trainer.hub.demo_space import create_demo_space
    from trainer.hub.publish import PublishOptions, prepare_folder, push
    from trainer.runs.store import Run

    run = Run(Path(args.run).resolve())
    if not run.path("status.json").exists():
        raise UserError(f"{args.run!r} is not a run directory (no status.json).")
    options = PublishOptions(repo_id=args.repo, private=args.private, adapter_only=args.adapter_only,
                             license=args.license, widget_examples=args.widget_examples, model=args.model)
    if args.dry_run:
        if not args.output:
            raise UserError("--dry-run needs --output DIR: the folder that would be uploaded is written there.")
        folder = prepare_folder(run, options, Path(args.output))
        print(f"wrote the upload folder to {folder}: {', '.join(sorted(p.name for p in folder.iterdir()))}")
        return 0
    token = os.environ.get("HF_TOKEN")
    result = push(run, options, token)
    print(f"pushed: {result['url']} (commit {result['commit']})")
    if args.demo_space:
        print(f"demo Space: {create_demo_space(args.repo, token)['url']}")
    return 0


def cmd_worker(args) -> int:
    from trainer.runs.worker import main

    return main(Path(args.run_dir), resume=args.resume)


def cmd_standby(args) -> int:
    from trainer.runs.worker import standby

    return standby()


def cmd_runs(args) -> int:
    from trainer.runs.store import RunStore

    store = RunStore()
    if args.rebuild:
        print(f"re-indexed {store.rebuild()} runs")
    for row in store.list():
        print(json.dumps(row))
    return 0


def cmd_hardware(args) -> int:
    from trainer.runs.hardware import detect

    hw = detect()
    print(json.dumps({**hw.to_dict(), "description": hw.describe()}))
    return 0


def _quiet_libraries() -> None:
    """Progress bars and load reports of transformers would drown our own progress lines."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from transformers.utils import logging

    logging.disable_progress_bar()


def cmd_batch_predict(args) -> int:
    from trainer.batch.work import from_terminal

    return 0 if from_terminal(args) == "succeeded" else EXIT_USER_ERROR


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func = globals()[f"cmd_{args.command.replace('-', '_')}"]
    _quiet_libraries()
    from trainer.training.cancel import RunCancelled

    try:
        return func(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except (RunCancelled, KeyboardInterrupt):
        print("cancelled", file=sys.stderr)
        return EXIT_CANCELLED
