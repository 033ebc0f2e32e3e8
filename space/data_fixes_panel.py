"""Data tab panel: the rows behind the report's duplicate, conflict and leakage warnings, and one-click fixes.

A fix writes a new file (trainer.data_fixes) into the upload box, which validates it like any upload: the
report then shows the effect. The user's own file is never changed.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pandas as pd

from trainer.intake.data import read_table
from trainer.intake.data_fixes import FIXES, rows_to_drop, without_rows, write_like
from trainer.errors import UserError

from . import scratch
from .common import INTAKE_EVENTS, error_box, shown_errors
from .plain import markdown_text

COLUMNS = ["rows", "text", "labels", "issue"]
SHOWN = 200


def concerned_rows(report: dict | None) -> pd.DataFrame:
    """One line per text the warnings are about: conflicting labels first, then leaked texts."""
    if not isinstance(report, dict):
        return pd.DataFrame(columns=COLUMNS)
    duplicates = report.get("duplicates") or {}
    lines = [{"rows": ", ".join(map(str, c["rows"])), "text": c["text"], "labels": " / ".join(c["labels"]),
              "issue": "same text, different labels"} for c in duplicates.get("conflicts", [])]
    lines += [{"rows": "", "text": text, "labels": "", "issue": "in train and in validation"}
              for text in (report.get("leakage") or {}).get("examples", [])]
    return pd.DataFrame(lines[:SHOWN], columns=COLUMNS)


def _button(report: dict | None, fix: str, words: str):
    count = len(rows_to_drop(report, fix)) if report else 0
    return gr.update(value=f"Drop {count:,} {words}", visible=count > 0)


def describe(report: dict | None):
    """The panel for a report: the table, the two buttons (shown only when they can act), whether to open."""
    table = concerned_rows(report)
    duplicates = len(rows_to_drop(report, "duplicates")) if report else 0
    return (gr.update(open=bool(len(table) or duplicates)), table,
            _button(report, "duplicates", "exact duplicate rows (the first copy of each text stays)"),
            _button(report, "conflicts", "rows whose text has conflicting labels"))


def build(path: gr.State, report: gr.JSON, upload: gr.File) -> None:
    with gr.Accordion("Fix the data: duplicates and conflicting labels", open=False, elem_id="data-fixes") as box:
        note = gr.Markdown(elem_id="data-fixes-note")
        table = gr.Dataframe(headers=COLUMNS, interactive=False, wrap=True, max_height=300, elem_id="data-fix-rows",
                             label="Rows the warnings are about")
        with gr.Row():
            drop_duplicates = gr.Button(visible=False, elem_id="drop-duplicates")
            drop_conflicts = gr.Button(visible=False, elem_id="drop-conflicts")
        error = error_box("data-fixes-error")
    fixed = gr.State(None)  # (path of the fixed file, what was done): said until another file is loaded

    def fix(kind: str):
        @shown_errors(3)
        def drop_rows(current: str | None, current_report: dict | None):
            if not current or not current_report:
                raise UserError("Upload a dataset first; its report lists what can be fixed.")
            rows = rows_to_drop(current_report, kind)
            original, _, _ = read_table(current)
            new_path = write_like(without_rows(original, rows), Path(current), scratch.new_folder("fixed"),
                                  FIXES[kind][1])
            shown = ", ".join(map(str, rows[:10])) + (" …" if len(rows) > 10 else "")
            done = (f"Dropped {len(rows):,} rows (rows {shown}) into a new file, "
                    f"{markdown_text(new_path.name)}; your file is unchanged. The report above is of the new file.")
            return str(new_path), (str(new_path), done), done
        return drop_rows

    def on_report(current_report, current, last):
        """A new report: list its rows; keep the note of a fix only while its file is the one shown."""
        done = last[1] if last and current == last[0] else ""
        try:
            return (*describe(current_report), done)
        except (AttributeError, KeyError, TypeError):  # not a report of ours (a script can send anything)
            return (*describe(None), done)

    private = dict(api_visibility="private", **INTAKE_EVENTS)
    drop_duplicates.click(fix("duplicates"), [path, report], [upload, fixed, note, error], **private)
    drop_conflicts.click(fix("conflicts"), [path, report], [upload, fixed, note, error], **private)
    report.change(on_report, [report, path, fixed], [box, table, drop_duplicates, drop_conflicts, note],
                  api_visibility="private")
