"""The command line's arguments: every subcommand and its flags; the training settings' flags come from their
declarations (config.py). ``cli.py`` runs what they name (``command``)."""

from __future__ import annotations

import argparse
from dataclasses import fields

from trainer.config import TrainConfig, default_of


def _add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per setting, with its help, choices and default from its declaration (config.py). Choices go in the
    help, not to argparse, so a wrong value gets the same message as in the app and the API."""
    for f in fields(TrainConfig):
        if f.name in ("text_column", "label_column"):
            continue
        meta = f.metadata
        default = f"empty: {meta['auto']}" if meta["auto"] else f"default: {default_of(f)!r}"
        choices = f"{{{','.join(meta['choices'])}}} " if meta["choices"] else ""
        parser.add_argument("--" + f.name.replace("_", "-"), dest=f.name, default=None,
                            help=f"{choices}{meta['help']} ({default})".replace("%", "%%"))


def _add_label_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", choices=["auto", "single", "multi"], default="auto",
                        help="one label per text (single) or several (multi); auto detects it")
    parser.add_argument("--label-delimiter", help="multi-label cells such as 'joy;love': the separator (auto: , ; |)")
    parser.add_argument("--label-columns",
                        help="multi-label data with one 0/1 column per label: the columns, comma-separated")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m trainer", description="ClassiTune: fine-tune text classifiers.")
    sub = parser.add_subparsers(dest="subcommand", required=True)
    _data_commands(sub)
    _model_commands(sub)
    _internal_commands(sub)
    return parser


def _data_commands(sub) -> None:
    p = sub.add_parser("validate", help="check a dataset and print the validation report as JSON")
    p.add_argument("file")
    p.add_argument("--text-column")
    p.add_argument("--label-column")
    p.add_argument("--validation-file")
    p.add_argument("--model", default="default", help="tokenizer for the length statistics")
    _add_label_arguments(p)
    p.set_defaults(command="validate")

    p = sub.add_parser("label-errors", help="rank the rows whose label looks wrong (JSON or CSV); changes nothing")
    p.add_argument("file")
    p.add_argument("--text-column")
    p.add_argument("--label-column")
    p.add_argument("--model", default="default", help="the frozen encoder that embeds the texts")
    p.add_argument("--format", choices=["json", "csv"], default="json")
    p.add_argument("--top", type=int, default=200, help="rows to list, most suspicious first (0: all)")
    p.add_argument("--output", help="write the ranking here instead of printing it")
    p.add_argument("--corrected", help="also write the file with a suggested_label column (or without flagged rows); "
                        "JSON Lines, Parquet or CSV by its ending")
    p.add_argument("--corrected-mode", choices=["suggest", "drop"], default="suggest")
    p.add_argument("--app-limits", action="store_true", help=argparse.SUPPRESS)  # the app's upload limits (service.py)
    _add_label_arguments(p)
    p.set_defaults(command="label_errors")


def _model_commands(sub) -> None:
    p = sub.add_parser("train", help="fine-tune a classifier and write a run directory")
    p.add_argument("--data", help="training file (CSV, TSV, JSONL, Parquet)")
    p.add_argument("--validation-file")
    p.add_argument("--text-column")
    p.add_argument("--label-column")
    p.add_argument("--output", help="run directory to write (default: a new run under the data root)")
    p.add_argument("--config", help="a run's config.json to start from (reproduce a run); flags override it")
    p.add_argument("--dry-run", action="store_true", help="validate and write the run directory, do not train")
    _add_config_arguments(p)
    p.set_defaults(command="train")

    p = sub.add_parser("predict", help="label every text of a file with a tuned model")
    p.add_argument("--model", required=True, help="a run folder (its recommended model) or a model folder")
    p.add_argument("--use", choices=["tuned", "baseline"], help="with a run folder: this model, not the recommended")
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--text-column")
    p.add_argument("--batch-size", default=64)
    p.add_argument("--threshold", help="multi-label models: one decision threshold for every label (default: tuned)")
    p.set_defaults(command="predict")

    p = sub.add_parser("batch-predict", help="label a large file chunk by chunk into a job folder; run it again "
                       "with the same --job to resume where it stopped")
    p.add_argument("--job", required=True, help="the job folder (created on first use; holds the output)")
    p.add_argument("--input", help="CSV, TSV, JSON Lines, Parquet or .txt (one text per line); first use only")
    p.add_argument("--model", help="a run folder (its recommended model), a model folder or a Hub id; first use only")
    p.add_argument("--use", choices=["tuned", "baseline"], help="with a run folder: this model, not the recommended")
    p.add_argument("--text-column", default="text")
    p.set_defaults(command="batch-predict")

    p = sub.add_parser("push", help="publish a run's model and model card to the Hub (token from HF_TOKEN)")
    p.add_argument("--run", required=True, help="the run directory")
    p.add_argument("--repo", required=True, help="<user or org>/<name>")
    p.add_argument("--private", action="store_true")
    p.add_argument("--adapter-only", action="store_true", help="push the LoRA adapter instead of the merged model")
    p.add_argument("--model", choices=["tuned", "baseline"], default="",
                   help="which of the run's models to publish (default: the one the run uses; baseline: SetFit format)")
    p.add_argument("--license", default="apache-2.0")
    p.add_argument("--widget-examples", action="store_true", help="use 3 validation texts as widget examples")
    p.add_argument("--demo-space", action="store_true", help="also create a demo Space serving the model")
    p.add_argument("--dry-run", action="store_true", help="write the folder that would be uploaded, upload nothing")
    p.add_argument("--output", help="with --dry-run: where to write the folder")
    p.set_defaults(command="push")


def _internal_commands(sub) -> None:
    p = sub.add_parser("job-run", help="(inside a Hugging Face Job) train a run handed over by the app")
    p.add_argument("--data-repo", required=True)
    p.add_argument("--model-repo", required=True)
    p.set_defaults(command="job_run")

    p = sub.add_parser("hub-dataset", help="(internal) stream a Hub dataset split within limits into a Parquet file")
    p.add_argument("dataset_id")
    p.add_argument("--split", default="train")
    p.add_argument("--output", required=True, help="the folder to write it in")
    p.add_argument("--max-rows", type=int, required=True)
    p.add_argument("--max-bytes", type=int, required=True)
    p.set_defaults(command="hub_dataset")

    p = sub.add_parser("batch-job-run", help="(inside a Hugging Face Job) label a file handed over by the app")
    p.add_argument("--data-repo", required=True)
    p.set_defaults(command="batch_job_run")

    p = sub.add_parser("worker", help="(internal) train a prepared run directory")
    p.add_argument("--run-dir", required=True)
    p.add_argument("--resume", action="store_true")
    p.set_defaults(command="worker")

    p = sub.add_parser("standby", help="(internal) a worker started ahead of time; reads its run from stdin")
    p.set_defaults(command="standby")

    p = sub.add_parser("runs", help="list runs in the registry")
    p.add_argument("--rebuild", action="store_true", help="re-create the registry from run directories")
    p.set_defaults(command="runs")

    p = sub.add_parser("hardware", help="print the hardware found, as JSON")
    p.set_defaults(command="hardware")
