"""The Data tab reads a file exactly as the CLI does, and a new file starts from detection (issue 30, items 1-2).

The files are generated in the shapes users brought: comments with one 0/1 column per label, and a
semicolon-delimited export with one label per row after it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trainer.intake.data import load_dataset_file

pytestmark = pytest.mark.quick
ROOT = Path(__file__).resolve().parent.parent
EMOTIONS = ["anger", "disgust", "fear", "joy", "love", "sadness", "surprise"]


def indicator_file(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    flags = (rng.random((120, len(EMOTIONS))) < 0.3).astype(int)
    flags[flags.sum(1) == 0, 3] = 1
    frame = pd.DataFrame(flags, columns=EMOTIONS)
    frame.insert(0, "comment_text", [f"comment number {i} about how I feel today, {EMOTIONS[i % 7]}" for i in range(120)])
    path = folder / "comments.csv"
    frame.to_csv(path, index=False)
    return path


def semicolon_file(folder: Path) -> Path:
    labels = [f"emoji_{i}" for i in range(8)]
    frame = pd.DataFrame({"id": range(160), "label": [labels[i % 8] for i in range(160)],
                          "tweet": [f"tweet {i} with some words about the day #{i % 8}" for i in range(160)],
                          "lang": "en"})
    path = folder / "tweets.csv"
    frame.to_csv(path, sep=";", index=False)
    return path


def cli_report(path: Path) -> dict:
    done = subprocess.run([sys.executable, "-m", "trainer", "validate", str(path)], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    return json.loads(done.stdout)


def test_the_browser_reads_a_file_as_the_cli_does_and_a_new_file_starts_from_detection(tmp_path, data_root):
    from space import data_tab

    comments, tweets = indicator_file(tmp_path), semicolon_file(tmp_path)
    out = data_tab.on_file(str(comments))
    preview, text, label, path, label_columns, task, delimiter, summary, report = out[:9]
    cli = cli_report(comments)
    assert report["task"] == cli["task"] == "multi" and report["labels"] == cli["labels"] == EMOTIONS
    assert text["value"] == "comment_text" and label["value"] is None  # no single column posing as the label
    assert "multi-label" in summary and "7 labels" in summary
    # the form sends back what it was filled with: still the same reading
    again = data_tab.validate(path, text["value"], label["value"], task, delimiter, label_columns["value"])
    assert again[1]["labels"] == EMOTIONS
    out = data_tab.on_file(str(tweets))  # the next file: nothing of the multi-label one carries over
    _, text, label, _, label_columns, task, delimiter, summary, report = out[:9]
    assert (task, delimiter, label_columns["value"]) == ("auto", "", [])
    assert report["task"] == cli_report(tweets)["task"] == "single" and len(report["labels"]) == 8
    assert (text["value"], label["value"]) == ("tweet", "label")


def test_a_detected_column_sent_back_is_not_a_choice_but_single_still_reads_one_column(tmp_path):
    comments = indicator_file(tmp_path)
    detected = load_dataset_file(comments, with_lengths=False)
    assert detected.report.task == "multi"
    sent_back = load_dataset_file(comments, label_column=detected.report.detected["label"], with_lengths=False)
    assert sent_back.report.labels == detected.report.labels
    one = load_dataset_file(comments, label_column="anger", task="single", with_lengths=False)
    assert one.report.task == "single" and sorted(one.report.labels) == ["0", "1"]


def test_a_noisy_file_is_told_so_dropping_shows_what_goes_and_the_file_keeps_its_delimiter(tmp_path):
    from trainer.intake.data import read_table
    from trainer.intake.data_fixes import write_like
    from trainer.quality.label_errors import LabelErrors, corrected_file, describe, drop_effect

    rows = [{"row": i + 1, "text": f"t{i}", "given_label": "joy" if i % 3 else "anger", "suggested_label": "joy",
             "score": 0.9, "flagged": i % 2 == 0} for i in range(20)]
    result = LabelErrors(flagged=10, checked=20, total=20, rows=rows)
    assert "50% of the rows" in describe(result) and "hard to tell" in describe(result)
    assert "hard to tell" not in describe(LabelErrors(flagged=1, checked=20, total=20, rows=rows))
    effect = {e["label"]: (e["rows now"], e["after dropping"]) for e in drop_effect(result)}
    assert effect == {"joy": (13, 7), "anger": (7, 3)}
    tweets = semicolon_file(tmp_path)
    original, info, _ = read_table(tweets)
    flagged = LabelErrors(flagged=1, checked=160, total=160, rows=[{**rows[0], "row": 1, "flagged": True}])
    written = write_like(corrected_file(original, flagged, "drop"), tweets, tmp_path, "without-flagged-rows",
                         info.delimiter)
    assert written.suffix == ".csv" and written.read_text().splitlines()[0] == "id;label;tweet;lang"
    assert len(read_table(written)[0]) == 159


def test_excel_workbooks_and_plain_text_files_are_read(tmp_path):
    from trainer.intake.reading import read_lines

    frame = pd.read_csv(ROOT / "assets" / "banking77_sample.csv")
    book = tmp_path / "intents.xlsx"
    with pd.ExcelWriter(book) as writer:
        frame.to_excel(writer, sheet_name="data", index=False)
        frame.head(3).to_excel(writer, sheet_name="notes", index=False)
    intake = load_dataset_file(book, with_lengths=False)
    assert intake.report.rows_used == len(frame) and len(intake.report.labels) == 6
    assert any("first sheet, 'data'" in w and "other 1 sheet" in w for w in intake.report.warnings)
    lines = tmp_path / "texts.txt"
    lines.write_text("my card has not arrived\n\n  how do I top up  \n", encoding="utf-16")
    assert read_lines(lines) == ["my card has not arrived", "how do I top up"]


def test_multi_label_predictions_show_each_labels_threshold_beside_its_score():
    from space.predict_view import results_html
    from trainer.tasks import get_task

    thresholds = {"mode": "per_label", "global": 0.5, "per_label": {"anger": 0.9, "joy": 0.3}}
    result = get_task("multi").decode(np.array([[0.86, 0.41]]), ["anger", "joy"], thresholds, top_k=2)[0]
    assert result["labels"] == ["joy"]
    page = results_html(["so happy, so angry"], [result], None)
    assert "<b>joy</b> 0.41&nbsp;<span class='cut'>≥&nbsp;0.30" in page  # chosen: over its own threshold
    assert "anger&nbsp;0.86&nbsp;<span class='cut'>&lt;&nbsp;0.90" in page  # higher, but under its own
    none = get_task("multi").decode(np.array([[0.2, 0.1]]), ["anger", "joy"], thresholds, top_k=2)[0]
    assert "no label reached its threshold" in results_html(["meh"], [none], None)


def test_charts_name_each_run_once_draw_its_baseline_and_say_when_nothing_is_there_yet():
    from space import charts

    events = [{"type": "eval", "step": s, "epoch": s / 10, "accuracy": a, "macro_f1": a - 0.02}
              for s, a in ((10, 0.80), (20, 0.86))]
    runs = [charts.RunCurves(f"run {i}", charts.PALETTE[i], events, {"accuracy": 0.75}) for i in range(3)]
    fig = charts.quality_chart(runs)
    assert sum(bool(t.showlegend) for t in fig.data) == 3  # one legend entry per run, not one per metric
    assert len(fig.layout.shapes) == 3 and "baseline 0.750" in fig.layout.annotations[0].text
    waiting = charts.quality_chart([charts.RunCurves("new run", charts.PALETTE[0], [], None)])
    assert not waiting.data and "No evaluation yet" in waiting.layout.annotations[0].text


def test_the_run_list_shows_the_scores_of_the_model_in_use(tmp_path):
    """Issue 30 (5): a run that uses its baseline is listed with the baseline's accuracy, not the fine-tuned one's."""
    from trainer.runs.store import RunStore

    store = RunStore(tmp_path / "root")
    run = store.create("alice", "tweets.csv", {"model": "auto"})
    store.set_state(run, "succeeded", best={"accuracy": 0.283, "macro_f1": 0.2}, baseline={"accuracy": 0.73,
                    "macro_f1": 0.6}, recommended={"model": "baseline"})
    assert store.list("alice")[0]["best_accuracy"] == 0.73
    run.update_status(chosen_model="tuned")
    store.index(run)
    assert store.list("alice")[0]["best_accuracy"] == 0.283


def test_the_suggested_repo_name_says_when_the_run_uses_its_setfit_format_baseline(tmp_path):
    from trainer.hub.publish import default_repo_id
    from trainer.runs.store import RunStore

    store = RunStore(tmp_path / "root")
    run = store.create("alice", "tweets.csv", {"model": "auto", "method": "full"})
    run.update_status(base_model_name="sentence-transformers/all-MiniLM-L6-v2", recommended={"model": "tuned"})
    assert default_repo_id("alice", run) == "alice/tweets-all-MiniLM-L6-v2-full"
    run.update_status(recommended={"model": "baseline"})
    assert default_repo_id("alice", run) == "alice/tweets-all-MiniLM-L6-v2-setfit-baseline"


LONG_LABELS = ["card payment was declined abroad", "card payment was declined at home", "top up by bank transfer failed"]


def test_the_data_preview_puts_the_text_and_label_first(tmp_path, data_root):
    """Issue 30 (9): on a phone the preview showed `id` and `label`, not the text: text and label come first."""
    from space import data_tab

    preview = data_tab.on_file(str(semicolon_file(tmp_path)))[0]
    assert list(preview.columns[:2]) == ["tweet", "label"] and set(preview.columns) == {"id", "label", "tweet", "lang"}


def test_the_confusion_matrix_cuts_long_names_on_its_axes_and_keeps_them_whole_in_the_hover():
    """Issue 30 (9): 30-character labels left no room for the cells on a phone."""
    from space.charts import AXIS_CHARS, confusion_chart

    evaluation = {"labels": LONG_LABELS, "confusion": [[5, 1, 0], [2, 4, 0], [0, 0, 6]]}
    figure = confusion_chart(evaluation, normalise=False)
    ticks = figure.layout.xaxis.ticktext
    assert len(set(ticks)) == 3 and all(len(t) <= AXIS_CHARS for t in ticks)  # cut in the middle: still apart
    assert figure.data[0].customdata[0][1] == [LONG_LABELS[0], LONG_LABELS[1]]  # hover: true, predicted, whole


def test_metrics_opens_on_the_newest_run_that_has_started(data_root):
    """Issue 30 (9): Metrics first plotted a queued run (nothing to show) instead of the running one."""
    from space.common import service
    from space.metrics_tab import first_started

    store = service().store
    running = store.create("alice", "a.csv", {"model": "auto"})
    store.set_state(running, "running")
    queued = store.create("alice", "b.csv", {"model": "auto"})
    assert first_started([queued.id, running.id], "alice") == running.id
    assert first_started([queued.id], "alice") == queued.id and first_started([], "alice") is None
