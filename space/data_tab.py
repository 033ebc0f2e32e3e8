"""Data tab: upload (or the example, or a Hub dataset), map columns, see the validation report."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from trainer.intake.data import read_table
from trainer.errors import UserError
from trainer.intake.label_sets import LabelOptions

from . import charts, data_fixes_panel, label_errors_panel, scratch
from .common import INTAKE_EVENTS, error_box, publish_token, service, shown_errors
from .plain import markdown_text

EXAMPLE = Path(__file__).resolve().parent.parent / "assets" / "banking77_sample.csv"
FILE_TYPES = [".csv", ".tsv", ".txt", ".jsonl", ".json", ".ndjson", ".parquet", ".pq", ".xlsx", ".xlsm"]


@dataclass
class DataTab:
    path: gr.State
    text_column: gr.Dropdown
    label_column: gr.Dropdown
    task: gr.Dropdown
    label_delimiter: gr.Textbox
    label_columns: gr.Dropdown
    report: gr.JSON  # the validated file's report: the Train tab says what it is about to train


TASK_CHOICES = [("Detect from the data", "auto"), ("One label per text", "single"),
                ("Several labels per text (multi-label)", "multi")]
FORMS = {"delimited": "one column, names separated by {delimiter}", "json_list": "one column of JSON lists",
         "list": "one column of lists", "indicator_columns": "one 0/1 column per label"}


def report_markdown(report: dict) -> str:
    """A short human summary; every value from the user's file is shown as plain text (plain.py)."""
    e = markdown_text
    info = report["file"]
    sizes = report["split_sizes"]
    lines = [
        f"### ✅ Ready to train: {len(report['labels'])} {'labels' if report.get('task') == 'multi' else 'classes'}, "
        f"{report['rows_used']:,} usable rows",
        f"- **File**: {e(info['name'])} ({e(info['format'])}"
        + (f", {e(str(info['encoding']))}" if info.get("encoding") else "")
        + (f", delimiter {e(repr(info['delimiter']))}" if info.get("delimiter") else "") + ")",
        f"- **Columns**: text = {e(report['text_column'])}, label = {e(report['label_column'])}",
        _task_line(report),
        f"- **Split**: {sizes['train']:,} train / {sizes['validation']:,} validation"
        + (f" / {sizes['test']:,} test" if sizes.get("test") else "") + f" ({e(report['split_source'])})",
    ]
    if report.get("length"):
        length = report["length"]
        lines.append(f"- **Length**: median {length['p50']:.0f} tokens, 95th percentile {length['p95']:.0f}, "
                     f"max {length['max']}; suggested max_length **{length['suggested_max_length']}**")
    multi = report.get("multi_label")
    if multi:
        per_row = multi["labels_per_row"]
        lines.append(f"- **Labels per text** (train): {per_row['0']:,} with none, {per_row['1']:,} with one, "
                     f"{per_row['2+']:,} with two or more; mean {per_row['mean']:.2f}")
        if multi["top_pairs"]:
            lines.append("- **Most frequent pairs**: " + "; ".join(
                f"{e(' + '.join(p['labels']))} ({p['count']:,})" for p in multi["top_pairs"][:5]))
    if report["warnings"]:
        lines.append("\n#### ⚠️ Warnings")
        lines += [f"- {e(w)}" for w in report["warnings"]]
    return "\n".join(lines)


def _task_line(report: dict) -> str:
    found = report.get("label_format") or {}
    if report.get("task") != "multi":
        return f"- **Task**: single-label, one class per text ({markdown_text(found.get('why', 'detected'))})"
    form = FORMS.get(found.get("form"), found.get("form", "")).format(delimiter=repr(found.get("delimiter")))
    return (f"- **Task**: **multi-label**, {len(report['labels'])} labels; {markdown_text(form)} "
            f"({markdown_text(found.get('why', ''))}). Change it under \"Labels\" if this is wrong.")


NO_FILE = "Upload a dataset first (CSV, TSV, JSON Lines, Parquet or Excel), or use the example dataset."


def _cleared() -> tuple:
    """Every output of a file, emptied: nothing of the previous file stays on screen."""
    none = gr.update(choices=[], value=None)
    return (None, none, none, None, gr.update(choices=[], value=[]), "auto", "", "", None, None, None)


@shown_errors(11, on_error=lambda: _cleared())
def on_file(path: str | None):
    """Whenever the file changes (upload, example, Hub, corrected file, cleared): read it by detection alone, as
    the CLI does, and fill the pickers from what was detected, in one step, so no report or label setting of the
    previous file applies to this one (and a file that cannot be read leaves nothing to train on by mistake).
    Columns detection picked are not sent back as the user's choice (data.load_dataset_file)."""
    if not path:
        return _cleared()
    frame, _, _ = read_table(path)
    report = _report(path, None, None, "auto", None, None)
    found = report[1]
    indicator = found["label_format"].get("form") == "indicator_columns"
    columns = list(frame.columns)
    first = [c for c in (found["text_column"], *found["label_column"].split(", ")) if c in columns]
    preview = frame[first + [c for c in columns if c not in first]].head(20).astype(str)  # the text first
    return (preview, gr.update(choices=columns, value=found["text_column"]),
            gr.update(choices=columns, value=None if indicator else found["label_column"]), path,
            gr.update(choices=columns, value=[]), "auto", "", *report)


def _report(path, text_column, label_column, task, delimiter, label_columns, model=None) -> tuple:
    labels = LabelOptions.from_form(task, delimiter, label_columns)
    report = service().validate(path, text_column, label_column if not label_columns else None, model=model,
                                labels=labels).report.to_dict()
    return report_markdown(report), report, charts.class_distribution(report), charts.length_histogram(report)


@shown_errors(4)
def validate(path: str | None, text_column: str | None, label_column: str | None, task: str | None = "auto",
             delimiter: str | None = None, label_columns: list[str] | None = None, model: str | None = None):
    if not path:
        raise UserError(NO_FILE)
    return _report(path, text_column, label_column, task, delimiter, label_columns, model)


@shown_errors(1)
def load_hub_dataset(dataset_id: str, split: str, oauth: gr.OAuthToken | None = None):
    """Read with the visitor's own sign-in, or anonymously: never with the operator's token (hub_auth.py)."""
    folder = scratch.new_folder("hub")
    try:
        return str(service().load_hub_dataset(dataset_id, split, folder, token=publish_token(None, oauth)))
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def build() -> DataTab:
    path = gr.State(None)
    with gr.Row():
        with gr.Column(scale=2):
            upload = gr.File(label="Dataset (CSV, TSV, JSON Lines, Parquet, Excel)", file_types=FILE_TYPES,
                             elem_id="dataset-upload")
            example = gr.Button("Use the example dataset (Banking77 sample, 6 intents)", elem_id="use-example")
            with gr.Accordion("Load from the Hugging Face Hub", open=False):
                hub_id = gr.Textbox(label="Hub dataset id", placeholder="cornell-movie-review-data/rotten_tomatoes")
                hub_split = gr.Textbox(label="Split", value="train")
                hub_button = gr.Button("Load from the Hub")
        with gr.Column(scale=1):
            # Custom values allowed: a stale pick (a file just cleared) reaches the checks, which explain it.
            text_column = gr.Dropdown(label="Text column", choices=[], interactive=True, elem_id="text-column",
                                      allow_custom_value=True)
            label_column = gr.Dropdown(label="Label column", choices=[], interactive=True, elem_id="label-column",
                                       allow_custom_value=True)
            with gr.Accordion("Labels: one per text, or several", open=False):
                task = gr.Dropdown(TASK_CHOICES, value="auto", label="Task", elem_id="task", interactive=True)
                label_delimiter = gr.Textbox(label="Separator between labels in a cell (empty: detect , ; |)",
                                             max_length=3, elem_id="label-delimiter")
                label_columns = gr.Dropdown([], value=[], multiselect=True, elem_id="label-columns",
                                            label="Or: one 0/1 column per label (pick them)")
            check = gr.Button("Validate", variant="primary", elem_id="validate")
    error = error_box("data-error")
    summary = gr.Markdown(elem_id="report-summary")
    report = gr.JSON(label="Report", render=False)  # shown at the bottom; the fixes below read it
    data_fixes_panel.build(path, report, upload)
    preview = gr.Dataframe(label="Preview (first 20 rows)", interactive=False, wrap=True, max_height=300,
                           headers=["text", "label"])  # not "1 2 3" before a file is chosen
    with gr.Row():
        distribution = gr.Plot(label="Class distribution", elem_id="class-distribution")
        lengths = gr.Plot(label="Text lengths")
    with gr.Accordion("Full validation report (JSON)", open=False):
        report.render()

    outputs = [summary, report, distribution, lengths, error]
    private = dict(api_visibility="private", **INTAKE_EVENTS)
    # One handler for every way a file arrives or leaves: the upload box is the single source of the dataset.
    upload.change(on_file, [upload],
                  [preview, text_column, label_column, path, label_columns, task, label_delimiter, *outputs],
                  **private)
    example.click(lambda: str(EXAMPLE), None, upload, **private)
    hub_button.click(load_hub_dataset, [hub_id, hub_split], [upload, error], **private)
    label_errors_panel.build(path, text_column, label_column, upload, [task, label_delimiter, label_columns])
    checked = [path, text_column, label_column, task, label_delimiter, label_columns]
    check.click(validate, checked, outputs, **private)
    task.input(validate, checked, outputs, **private)
    return DataTab(path=path, text_column=text_column, label_column=label_column, task=task,
                   label_delimiter=label_delimiter, label_columns=label_columns, report=report)
