"""Data tab panel: rank the rows whose label looks wrong, download them, and train on a corrected file.

The ranking comes from ``trainer.quality.label_errors`` (through the service); this module only shows it and writes
the files a user asked for. Nothing is changed without the user's click.
"""

from __future__ import annotations

import csv
from pathlib import Path

import gradio as gr
import pandas as pd

from trainer.intake.data import read_table
from trainer.intake.data_fixes import write_like
from trainer.errors import UserError
from trainer.quality.label_errors import corrected_file, drop_effect
from trainer.intake.label_sets import LabelOptions
from trainer.intake.spreadsheet import safe_rows

from . import scratch
from .common import INTAKE_EVENTS, error_box, service, shown_errors
from .plain import markdown_text

COLUMNS = ["row", "given_label", "suggested_label", "score", "text"]  # the labels in view first, the text wraps last
PAIR_COLUMNS = ["similarity", "row", "text", "label", "other_row", "other_text", "other_label"]


def _report_csv(frame: pd.DataFrame, path: Path) -> str:
    """A report of rows, formula-escaped for spreadsheets (a data file keeps the user's rows exactly)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(frame.columns))
        writer.writeheader()
        writer.writerows(safe_rows(frame.to_dict("records")))
    return str(path)


@shown_errors(7)
def find(path: str | None, text_column: str | None, label_column: str | None, task: str | None = "auto",
         delimiter: str | None = None, label_columns: list[str] | None = None):
    """Rank the rows; return the note, the flagged rows, the near-duplicate pairs, the downloads, the file without
    the flagged rows, what dropping them would do (per label), and the drop button's words."""
    if not path:
        raise UserError("Upload a dataset first, then look for likely label errors.")
    labels = LabelOptions.from_form(task, delimiter, label_columns)
    result = service().label_errors(path, text_column, label_column if not label_columns else None, labels=labels)
    columns = COLUMNS + (["change"] if result.task == "multi" else [])
    flagged = pd.DataFrame([r for r in result.rows if r["flagged"]], columns=columns + ["flagged"])[columns]
    pairs = pd.DataFrame(result.near_duplicates, columns=PAIR_COLUMNS)
    original, info, _ = read_table(path)
    folder = scratch.new_folder("label-errors")
    source = Path(path)
    files = [_report_csv(flagged, folder / f"{source.stem}-likely-label-errors.csv"),
             str(write_like(corrected_file(original, result, "suggest"), source, folder, "with-suggested-labels",
                            info.delimiter)),
             str(write_like(corrected_file(original, result, "drop"), source, folder, "without-flagged-rows",
                            info.delimiter))]
    if len(pairs):
        files.append(_report_csv(pairs, folder / f"{source.stem}-near-duplicates-with-different-labels.csv"))
    note = f"**{markdown_text(result.note)}**" if result.flagged else markdown_text(result.note)
    effect = pd.DataFrame(drop_effect(result))
    drop = gr.update(value=f"Drop the {result.flagged:,} flagged rows and train on the rest", visible=result.flagged > 0)
    return note, flagged, pairs, files, files[2], gr.update(value=effect, visible=result.flagged > 0), drop


@shown_errors(2)
def cleaned_file(file: str | None, current: str | None) -> tuple:
    """The file without the flagged rows becomes the dataset; the original stays one click away."""
    if not file:
        raise UserError("Find likely label errors first: the file without the flagged rows is made then.")
    return file, current


def build(path: gr.State, text_column: gr.Dropdown, label_column: gr.Dropdown, upload: gr.File,
          label_settings: list) -> None:
    """``label_settings``: the Data tab's task, delimiter and label-column inputs, so the check reads the labels
    as the report does. Writing the cleaned file into ``upload`` makes the Data tab validate it like any upload."""
    with gr.Accordion("Likely label errors", open=False, elem_id="label-errors-panel"):
        gr.Markdown("Rows whose given label the rest of the data contradicts, most suspicious first: each row is "
                    "predicted by a model that never saw it. A ranking to review, not a verdict.")
        button = gr.Button("Find likely label errors", elem_id="find-label-errors")
        error = error_box("label-errors-error")
        note = gr.Markdown(elem_id="label-errors-note")
        table = gr.Dataframe(headers=COLUMNS, interactive=False, wrap=True, max_height=400, elem_id="label-errors")
        pairs = gr.Dataframe(headers=PAIR_COLUMNS, interactive=False, wrap=True, max_height=300,
                             label="Near-identical texts with different labels", elem_id="near-duplicates")
        downloads = gr.File(label="Downloads: the flagged rows; your file with a suggested_label column; your file "
                                  "without the flagged rows (both in your file's format); the near-identical pairs",
                            file_count="multiple", elem_id="label-error-files")
        cleaned = gr.State(None)
        effect = gr.Dataframe(label="What dropping every flagged row would do (rows per label)", interactive=False,
                              visible=False, elem_id="drop-effect")
        use_cleaned = gr.Button("Drop the flagged rows and train on the rest", variant="secondary", visible=False,
                                elem_id="use-cleaned")
        original = gr.State(None)
        back = gr.Button("Back to the original file", visible=False, elem_id="back-to-original")
    private = dict(api_visibility="private")
    button.click(find, [path, text_column, label_column, *label_settings],
                 [note, table, pairs, downloads, cleaned, effect, use_cleaned, error],
                 **private, **INTAKE_EVENTS)
    use_cleaned.click(cleaned_file, [cleaned, path], [upload, original, error], **private)
    back.click(lambda kept: (kept, gr.update(visible=False)), original, [upload, back], **private)
    original.change(lambda kept: gr.update(visible=bool(kept)), original, back, **private)
    # Another file: the ranking of the previous one must not stay on screen as if it were this one's.
    path.change(lambda: ("", None, None, None, None, gr.update(value=None, visible=False), gr.update(visible=False),
                         gr.update(value="", visible=False)), None,
                [note, table, pairs, downloads, cleaned, effect, use_cleaned, error], **private)
