"""Data tab panel: rank the rows whose label looks wrong, download them, and train on a corrected file.

The ranking comes from ``trainer.label_errors`` (through the service); this module only shows it and writes
the files a user asked for. Nothing is changed without the user's click.
"""

from __future__ import annotations

import csv
from pathlib import Path

import gradio as gr
import pandas as pd

from trainer.data import read_table
from trainer.errors import UserError
from trainer.label_errors import corrected_file
from trainer.spreadsheet import safe_rows

from . import scratch
from .common import INTAKE_EVENTS, error_box, service, shown_errors
from .plain import markdown_text

COLUMNS = ["row", "text", "given_label", "suggested_label", "score"]


def _write(frame: pd.DataFrame, folder: Path, name: str, *, report: bool) -> str:
    """A report is formula-escaped for spreadsheets; a corrected data file keeps the user's rows exactly."""
    path = folder / name
    rows = safe_rows(frame.to_dict("records")) if report else frame.to_dict("records")
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(frame.columns))
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


@shown_errors(4)
def find(path: str | None, text_column: str | None, label_column: str | None):
    """Rank the rows; return the note, the flagged rows and three downloads."""
    if not path:
        raise UserError("Upload a dataset first, then look for likely label errors.")
    result = service().label_errors(path, text_column, label_column)
    flagged = pd.DataFrame([r for r in result.rows if r["flagged"]], columns=COLUMNS + ["flagged"])[COLUMNS]
    original, _, _ = read_table(path)
    folder = scratch.new_folder("label-errors")
    stem = Path(path).stem
    files = [_write(flagged, folder, f"{stem}-likely-label-errors.csv", report=True),
             _write(corrected_file(original, result, "suggest"), folder, f"{stem}-with-suggested-labels.csv",
                    report=False),
             _write(corrected_file(original, result, "drop"), folder, f"{stem}-without-flagged-rows.csv",
                    report=False)]
    note = f"**{markdown_text(result.note)}**" if result.flagged else markdown_text(result.note)
    return note, flagged, files, files[2]


@shown_errors(1)
def cleaned_file(file: str | None) -> str:
    if not file:
        raise UserError("Find likely label errors first: the file without the flagged rows is made then.")
    return file


def build(path: gr.State, text_column: gr.Dropdown, label_column: gr.Dropdown, upload: gr.File) -> None:
    """Writing the cleaned file into ``upload`` makes the Data tab preview and validate it like any upload."""
    with gr.Accordion("Likely label errors", open=False, elem_id="label-errors-panel"):
        gr.Markdown("Rows whose given label the rest of the data contradicts, most suspicious first: each row is "
                    "predicted by a model that never saw it. A ranking to review, not a verdict.")
        button = gr.Button("Find likely label errors", elem_id="find-label-errors")
        error = error_box("label-errors-error")
        note = gr.Markdown(elem_id="label-errors-note")
        table = gr.Dataframe(headers=COLUMNS, interactive=False, wrap=True, max_height=400, elem_id="label-errors")
        downloads = gr.File(label="Downloads: the flagged rows; your file with a suggested_label column; your file "
                                  "without the flagged rows", file_count="multiple", elem_id="label-error-files")
        cleaned = gr.State(None)
        use_cleaned = gr.Button("Use the file without the flagged rows", elem_id="use-cleaned")
    private = dict(api_visibility="private")
    button.click(find, [path, text_column, label_column], [note, table, downloads, cleaned, error], **private,
                 **INTAKE_EVENTS)
    use_cleaned.click(cleaned_file, cleaned, [upload, error], **private)
    # Another file: the ranking of the previous one must not stay on screen as if it were this one's.
    path.change(lambda: ("", None, None, None, gr.update(value="", visible=False)), None,
                [note, table, downloads, cleaned, error], **private)
