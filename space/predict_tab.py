"""Predict tab: batch-classify pasted text or a CSV with a tuned model and the base model, side by side."""

from __future__ import annotations

import csv
from pathlib import Path

import gradio as gr
import pandas as pd

from trainer.intake.data import read_table
from trainer.intake.reading import read_lines, table_columns
from trainer.errors import UserError
from trainer.predict import MAX_TEXTS_PER_REQUEST
from trainer.training.choice import BASELINE, TUNED
from trainer.service import BASE_MODEL, HUB_MODEL, RUN_MODEL, model_reference
from trainer.intake.spreadsheet import safe_cell

from . import batch_panel, scratch
from .common import error_box, owner_key, publish_token, service, shown_errors
from .plain import markdown_text
from .predict_view import NO_LABEL, agree, results_html
from .train_tab import TrainTab, finished_runs


def texts_from(pasted: str, upload: str | None, column: str | None) -> list[str]:
    """One text per non-empty pasted line, one per line of a .txt file, or the chosen column of a table."""
    if upload and Path(upload).suffix.lower() == ".txt":
        texts = read_lines(upload)
    elif upload:
        frame, info, _ = read_table(upload)
        if not column or column not in frame.columns:
            raise UserError(f"Pick the text column of {info.name!r}; its columns are: {', '.join(frame.columns)}.")
        texts = frame[column].fillna("").astype(str).tolist()
    else:
        texts = [line.strip() for line in (pasted or "").splitlines() if line.strip()]
    if not texts:
        raise UserError("Nothing to classify: paste some text (one per line) or upload a file.")
    if len(texts) > MAX_TEXTS_PER_REQUEST:
        raise UserError(f"{len(texts):,} texts; the instant limit is {MAX_TEXTS_PER_REQUEST:,}. Classify the whole file "
                        f"with a background job: open \"Whole files: classify in the background\" below.")
    return texts


def compare_table(texts: list[str], tuned: list[dict], base: list[dict] | None) -> pd.DataFrame:
    """The download: one row per text, the labels (multi-label: label sets) of both models and their agreement."""
    multi = bool(tuned) and "labels" in tuned[0]
    name = "labels" if multi else "label"
    rows = []
    for i, text in enumerate(texts):
        row = {"text": text, f"tuned {name}": tuned[i]["label"] or NO_LABEL,
               "tuned confidence": round(tuned[i]["confidence"], 4),
               "tuned top-k": ", ".join(f"{t['label']} {t['score']:.4f}" for t in tuned[i]["top_k"])}
        if base is not None:
            row.update({f"base {name}": base[i]["label"] or NO_LABEL, "base confidence": round(base[i]["confidence"], 4),
                        "agree": "yes" if agree(tuned[i], base[i]) else "no"})
        rows.append(row)
    return pd.DataFrame(rows)


def score_columns(tuned: list[dict]) -> pd.DataFrame:
    """For the download of multi-label predictions: the tuned model's score of every label, one column each."""
    if not tuned or "scores" not in tuned[0]:
        return pd.DataFrame(index=range(len(tuned)))
    return pd.DataFrame([{f"score {label}": round(score, 4) for label, score in r["scores"].items()} for r in tuned])


def write_download(table: pd.DataFrame) -> str:
    """CSV for download, with every cell escaped against spreadsheet formula injection."""
    path = scratch.new_folder("predictions") / "predictions.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(table.columns)
        for row in table.itertuples(index=False):
            writer.writerow([safe_cell(v) for v in row])
    return str(path)


TYPED, FILE = "typed", "file"


@shown_errors(3)
def classify(model: str, compare: bool, pasted: str, upload: str | None, column: str | None, top_k: int,
             threshold: str | None, source: str | None, browser: str | None, profile: gr.OAuthProfile | None = None,
             oauth: gr.OAuthToken | None = None, request: gr.Request = None):
    """Classify the input the user touched last (typed text or the file) and say which one it was."""
    owner = owner_key(browser, profile, request)
    use_file = bool(upload) and (source == FILE or not (pasted or "").strip())
    texts = texts_from("" if use_file else pasted, upload if use_file else None, column)
    if not model:
        raise UserError("Choose a tuned model (one of your finished runs) or type a Hub classifier id.")
    kind, name = model_reference(model)
    is_run = kind != HUB_MODEL
    # The left column is the fine-tuned model (a typed "base:<run>" shows the baseline there instead).
    threshold = _threshold(threshold)
    tuned = service().predict(f"{TUNED}:{name}" if kind == RUN_MODEL else model, texts, owner, top_k=int(top_k),
                              threshold=threshold, token=publish_token(None, oauth))
    base = None
    if compare and is_run:
        base = service().predict(f"{BASE_MODEL}:{name}", texts, owner, top_k=int(top_k), threshold=threshold)
    table = compare_table(texts, tuned, base)
    disagreements = int((table["agree"] == "no").sum()) if base is not None else None
    origin = (f"the file's column {markdown_text(column)}" + (" (the typed text was not used)" if pasted.strip() else "")
              if use_file else "the typed lines" + (" (the uploaded file was not used)" if upload else ""))
    note = f"{len(texts):,} {'text' if len(texts) == 1 else 'texts'} classified, from {origin}." + (
        f" Tuned and base models disagree on **{disagreements}**." if disagreements is not None else "")
    if is_run and service().status(name, owner).model_in_use == BASELINE:
        note += (" **This run uses its base model** (the quick baseline scored higher on validation): the API and "
                 "Publish use it; switch in the Metrics tab.")
    download = write_download(pd.concat([table, score_columns(tuned)], axis=1))
    return results_html(texts, tuned, base), download, note


def _threshold(typed: str | None) -> float | None:
    """A typed threshold for every label of a multi-label model; empty: the thresholds tuned per label."""
    text = (typed or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1:
        raise UserError(f"Threshold {text[:20]!r}: type a number between 0 and 1 (like 0.4), or leave it empty for "
                        f"the thresholds tuned on validation.")
    return value


def controls_for(model: str | None, browser: str | None, profile: gr.OAuthProfile | None = None,
                 request: gr.Request = None):
    """Top-k up to the run's number of labels (a 2-class model has no third label); a threshold box for multi-label
    runs only."""
    kind, name = model_reference(model or "")
    if kind == HUB_MODEL:
        return gr.update(maximum=10), gr.update(visible=False)
    try:
        run = service().run(name, owner_key(browser, profile, request))
        count, multi = len(run.labels()), run.config().get("task") == "multi"
    except (UserError, OSError, ValueError):
        return gr.skip(), gr.skip()
    return gr.update(maximum=max(1, count), value=min(3, count)), gr.update(visible=multi)


@shown_errors(1)
def file_columns(upload: str | None):
    if not upload:
        return gr.update(choices=[], value=None)
    if Path(upload).suffix.lower() == ".txt":  # one text per line: no columns to pick
        return gr.update(choices=["(one text per line)"], value="(one text per line)")
    columns = table_columns(upload)  # the first rows only: the file may be a large one for a background job
    return gr.update(choices=columns, value="text" if "text" in columns else columns[0])


def build(train: TrainTab, browser_id: gr.BrowserState, page: gr.Tab) -> None:
    with gr.Row():
        model = gr.Dropdown([], label="Tuned model (your finished runs, or type a Hub classifier id)",
                            allow_custom_value=True, elem_id="predict-model", scale=3, min_width=320)
        compare = gr.Checkbox(value=True, label="Compare with the base model", scale=1)
        top_k = gr.Slider(1, 10, value=3, step=1, label="Top-k", scale=1)
        threshold = gr.Textbox(label="Threshold for every label", placeholder="the tuned per-label ones", scale=1,
                               visible=False, elem_id="predict-threshold")  # shown for multi-label runs only
    with gr.Row():
        pasted = gr.Textbox(label="Texts, one per line", lines=6, elem_id="predict-texts")
        with gr.Column():
            upload = gr.File(label="…or a file (one text per line in .txt; or CSV, TSV, JSONL, Parquet, Excel)",
                             file_types=[".txt", ".csv", ".tsv", ".jsonl", ".parquet", ".xlsx"],
                             elem_id="predict-upload")
            column = gr.Dropdown([], label="Text column of the file")
    gr.Markdown(f"Up to {MAX_TEXTS_PER_REQUEST:,} texts per request. The base model is the quick baseline of the "
                f"run (frozen base encoder + logistic regression), since the base encoder has no classifier head.")
    go = gr.Button("Classify", variant="primary", elem_id="classify")
    error = error_box("predict-error")
    note = gr.Markdown(elem_id="predict-note")
    results = gr.HTML(label="Predictions (rows where the models disagree are highlighted)", elem_id="predictions")
    source = gr.State(TYPED)
    download = gr.File(label="Download predictions (CSV)", elem_id="predictions-download")
    batch_panel.build(model, upload, column, browser_id, page)

    def populate(browser, current, train_run, followed, profile: gr.OAuthProfile | None = None,
                 request: gr.Request = None):
        return finished_runs(owner_key(browser, profile, request), current, train_run, followed, keep_typed=True)

    private = dict(api_visibility="private")
    followed = gr.State(None)
    for trigger in (train.run_id.change, page.select):
        trigger(populate, [browser_id, model, train.run_id, followed], [model, followed], **private)
    upload.change(file_columns, upload, [column, error], **private)
    upload.upload(lambda: FILE, None, source, **private)
    pasted.change(lambda: TYPED, None, source, **private)
    model.change(controls_for, [model, browser_id], [top_k, threshold], **private)
    go.click(classify, [model, compare, pasted, upload, column, top_k, threshold, source, browser_id],
             [results, download, note, error], **private)
