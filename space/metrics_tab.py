"""Metrics tab: live loss / quality / learning-rate charts (runs overlaid), confusion matrix, errors."""

from __future__ import annotations

import json
import time

import gradio as gr
import pandas as pd

from trainer.training.choice import BASELINE, TUNED
from trainer.errors import UserError
from trainer.runs.views import RunRow

from . import charts
from .label_review import (EMPTY_SUSPECTS, EMPTY_WRONG, HINT, label_set_errors, misclassified,
                           training_suspects)
from .common import owner_key, service, user_errors
from .train_tab import TrainTab, run_choices


def run_name(row: RunRow) -> str:
    """"dataset · model · method · time": what a person recognises a run by (the id's tail tells twins apart)."""
    when = time.strftime("%m-%d %H:%M", time.localtime(row.created))
    model = row.model.split("/")[-1]
    model = "MiniLM (default)" if model in ("default", "all-MiniLM-L6-v2") else model
    return f"{row.dataset} · {model} · {row.method} · {when} · {row.id[-4:]}"


def _runs(run_ids: list[str], owner: str) -> list[charts.RunCurves]:
    """The selected runs, each coloured by its place among all the user's runs: the same colour in every chart."""
    rows = list(reversed(service().list(owner)))  # oldest first: a new run never changes the others' colours
    order = {row.id: i for i, row in enumerate(rows)}
    by_id = {row.id: row for row in rows}
    out = []
    for run_id in run_ids or []:
        if run_id not in by_id:
            continue
        try:
            events, baseline = service().run(run_id, owner).metrics(), service().status(run_id, owner).baseline or None
        except UserError:
            continue
        out.append(charts.RunCurves(run_name(by_id[run_id]), charts.PALETTE[order[run_id] % len(charts.PALETTE)],
                                    events, baseline))
    return out


def curves(run_ids: list[str], owner: str):
    runs = _runs(run_ids, owner)
    return charts.loss_chart(runs), charts.quality_chart(runs), charts.lr_chart(runs)


READABLE = {"macro_f1": "macro-F1", "micro_f1": "micro-F1", "samples_f1": "samples-F1", "exact_match": "exact match",
            "hamming_loss": "Hamming loss", "macro_ap": "macro AP", "true_label": "true label",
            "predicted_label": "predicted label"}


EMPTY_PER_CLASS = pd.DataFrame(columns=["label", "precision", "recall", "f1", "support"])
EMPTY_COMPARISON = pd.DataFrame(columns=["model", "accuracy", "macro-F1"])


def first_started(ids: list[str], owner: str) -> str | None:
    """The newest run that has started (a queued run has nothing to plot yet), else the newest."""
    waiting = {row.id for row in service().list(owner) if row.state == "queued"}
    return next((i for i in ids if i not in waiting), ids[0] if ids else None)


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """Column names a person reads, numbers with 3 decimals (the same in every column)."""
    return frame.rename(columns=READABLE).round(3)


def details(run_id: str | None, normalise: bool, owner: str):
    """Confusion matrix, per-class table, misclassified examples and baseline vs fine-tuned for one run."""
    empty = (charts.empty("Confusion matrix (pick a finished run)"), EMPTY_PER_CLASS, EMPTY_WRONG, EMPTY_COMPARISON,
             gr.update(value=None, interactive=False), "", "", EMPTY_SUSPECTS)
    if not run_id:
        return empty
    try:
        run = service().run(run_id, owner)
    except UserError:
        return empty
    path = run.path("evaluation.json")
    if not path.exists():
        return empty
    evaluation = json.loads(path.read_text())
    per_class = pd.DataFrame(evaluation["per_class"]).round(3)
    status = service().status(run_id, owner)
    rows = [{"model": "fine-tuned", **status.best}]
    if status.baseline:
        rows.append({"model": f"quick baseline (frozen {status.base_model_name or 'base'} + logistic regression)",
                     **status.baseline})
    comparison = pd.DataFrame(rows).round(4)
    predictions = pd.read_csv(run.path("eval_predictions.csv"), dtype={"text": str}, keep_default_na=False)
    note = status.recommended.message if status.recommended else ""
    choice = gr.update(value=status.model_in_use, interactive=run.path("baseline/evaluation.json").exists())
    suspects = training_suspects(run)
    if "confusion" not in evaluation:  # multi-label
        return (charts.per_label_chart(evaluation), readable(per_class), label_set_errors(predictions),
                readable(comparison), choice, note, *suspects)
    return (charts.confusion_chart(evaluation, normalise), readable(per_class), misclassified(predictions),
            readable(comparison), choice, note, *suspects)


@user_errors
def choose(run_id: str | None, which: str, owner: str) -> str:
    if not run_id:
        raise UserError("Pick a finished run first.")
    status = service().choose(run_id, owner, which)
    used = "the quick baseline" if which == BASELINE else "the fine-tuned model"
    return f"{status.recommended.message if status.recommended else ''} **Now using {used}** for Predict and Publish."


def _populate(browser, current_selected, current_detail, profile: gr.OAuthProfile | None = None,
              request: gr.Request = None):
    owner = owner_key(browser, profile, request)
    choices = run_choices(owner)
    ids = [c[1] for c in choices]
    first = first_started(ids, owner)
    chosen = [r for r in (current_selected or []) if r in ids] or ([first] if first else [])
    detail = current_detail if current_detail in ids else first
    return gr.update(choices=choices, value=chosen), gr.update(choices=choices, value=detail)


def _draw_curves(run_ids, browser, profile: gr.OAuthProfile | None = None, request: gr.Request = None):
    return curves(run_ids, owner_key(browser, profile, request))


def _curves_if_changed(run_ids, last, browser, profile: gr.OAuthProfile | None = None, request: gr.Request = None):
    """On the timer: redraw only when a selected run logged something new."""
    owner = owner_key(browser, profile, request)
    key = tuple((r.name, len(r.events)) for r in _runs(run_ids, owner))
    if key == last:
        return gr.skip(), gr.skip(), gr.skip(), last
    return *curves(run_ids, owner), key


def _draw_details(run_id, normalise_rows, browser, profile: gr.OAuthProfile | None = None, request: gr.Request = None):
    return details(run_id, normalise_rows, owner_key(browser, profile, request))


def _details_if_changed(run_id, normalise_rows, last, browser, profile: gr.OAuthProfile | None = None,
                        request: gr.Request = None):
    """On the timer: redraw the detail view only when the run's state changed (e.g. it just finished)."""
    owner = owner_key(browser, profile, request)
    try:
        state = service().status(run_id, owner).state if run_id else None
    except UserError:
        state = None
    key = (run_id, state, normalise_rows)
    if key == last:
        return (*[gr.skip()] * 8, last)
    return *details(run_id, normalise_rows, owner), key


def _show_new_run(run_id, browser, current_selected, profile: gr.OAuthProfile | None = None,
                  request: gr.Request = None):
    """The run just started (or picked in the Train tab) is plotted and detailed without asking."""
    choices = run_choices(owner_key(browser, profile, request))
    ids = [c[1] for c in choices]
    if run_id not in ids:
        return gr.skip(), gr.skip()
    kept = [r for r in (current_selected or []) if r in ids and r != run_id][:3]
    return gr.update(choices=choices, value=[run_id, *kept]), gr.update(choices=choices, value=run_id)


def _on_choose(run_id, which, browser, profile: gr.OAuthProfile | None = None, request: gr.Request = None):
    return choose(run_id, which, owner_key(browser, profile, request))


def _curves_section() -> tuple:
    """(runs to plot, refresh button, [loss, quality, learning-rate charts])."""
    with gr.Row():
        selected = gr.Dropdown([], multiselect=True, label="Runs to plot (overlay several to compare)",
                               elem_id="metric-runs", scale=4, min_width=320)
        refresh = gr.Button("Refresh", scale=1)
    with gr.Row():
        loss = gr.Plot(label="Loss", elem_id="loss-chart")
        quality = gr.Plot(label="Accuracy and macro-F1", elem_id="quality-chart")
    return selected, refresh, [loss, quality, gr.Plot(label="Learning rate")]


def _detail_section() -> tuple:
    """(run picker, normalise box, model choice, the detail outputs in ``details``' order but the choice note)."""
    gr.Markdown("### One run in detail")
    with gr.Row():
        detail_run = gr.Dropdown([], label="Run", elem_id="detail-run", scale=4, min_width=320)
        normalise = gr.Checkbox(label="Normalise rows", value=False, scale=1)
    # Headers from the start: an empty table would otherwise be headed "1 2 3".
    comparison = gr.Dataframe(EMPTY_COMPARISON, label="Quick baseline vs fine-tuned (validation)", interactive=False,
                              elem_id="baseline-comparison")
    with gr.Row():
        choice = gr.Radio([("fine-tuned model", TUNED), ("quick baseline", BASELINE)], value=None, interactive=False,
                          label="Model this run uses in Predict, the API and Publish", elem_id="model-choice", scale=1)
        choice_note = gr.Markdown(elem_id="choice-note")
    confusion = gr.Plot(label="Confusion matrix", elem_id="confusion-matrix")
    per_class = gr.Dataframe(EMPTY_PER_CLASS, label="Per class", interactive=False)
    gr.Markdown(f"**Validation rows the fine-tuned model predicts against their label.** {HINT}")
    wrong = gr.Dataframe(EMPTY_WRONG, label="Validation rows predicted against their label (possible label errors "
                                            "first, then the most confident)", interactive=False, wrap=True,
                         max_height=400, elem_id="validation-disagreements")
    gr.Markdown("**Training rows whose label looks wrong** (this run's label check, from the quick baseline's "
                "embeddings: a ranking to review, not a verdict; fix them in your file and train again)")
    suspects_note = gr.Markdown(elem_id="training-label-note")
    suspects = gr.Dataframe(EMPTY_SUSPECTS, interactive=False, wrap=True, max_height=400,
                            elem_id="training-label-errors")
    outputs = [confusion, per_class, wrong, comparison, choice, choice_note, suspects_note, suspects]
    return detail_run, normalise, choice, choice_note, outputs


def build(train: TrainTab, browser_id: gr.BrowserState, page: gr.Tab) -> None:
    selected, refresh, charts_out = _curves_section()
    detail_run, normalise, choice, choice_note, details_out = _detail_section()
    shown, drawn, timer = gr.State(None), gr.State(None), gr.Timer(3.0)
    private = dict(api_visibility="private")
    train.run_id.change(_show_new_run, [train.run_id, browser_id, selected], [selected, detail_run], **private)
    for trigger in (refresh.click, page.select):  # redraw everything when the tab is opened or refreshed
        trigger(_populate, [browser_id, selected, detail_run], [selected, detail_run], **private).then(
            _draw_curves, [selected, browser_id], charts_out, **private).then(
            _draw_details, [detail_run, normalise, browser_id], details_out, **private)
    selected.change(_draw_curves, [selected, browser_id], charts_out, **private)
    timer.tick(_curves_if_changed, [selected, drawn, browser_id], [*charts_out, drawn], show_progress="hidden",
               **private)
    choice.input(_on_choose, [detail_run, choice, browser_id], choice_note, **private)
    for trigger in (detail_run.change, normalise.change):
        trigger(_details_if_changed, [detail_run, normalise, shown, browser_id], [*details_out, shown], **private)
    timer.tick(_details_if_changed, [detail_run, normalise, shown, browser_id], [*details_out, shown],
               show_progress="hidden", **private)
