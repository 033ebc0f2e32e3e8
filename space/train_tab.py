"""Train tab: pick a model and method, start a run, watch it live, cancel or resume it."""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from typing import Callable

import gradio as gr

from trainer.config import METHOD_NAMES, TrainConfig
from trainer.errors import UserError
from trainer.bodies.run_choice import auto_plan
from trainer.jobs.flavors import HERE
from trainer.jobs.flavors import describe as describe_flavor
from trainer.models import AUTO_MODEL, display_name
from trainer.runs.views import RunStatus

from . import train_form
from .common import error_box, owner_key, publish_token, service, shown_errors
from .plain import markdown_text
from .data_tab import DataTab

STATE_COLOURS = {"queued": "#6b7280", "running": "#2563eb", "succeeded": "#15803d", "failed": "#b91c1c",
                 "cancelled": "#92400e", "interrupted": "#92400e"}


@dataclass
class TrainTab:
    run_id: gr.Textbox
    runs: gr.Dropdown
    list_runs: Callable  # (browser_id, current run id) -> (dropdown update, run id); bound at page load


def run_choices(owner: str, states: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    """The visitor's runs for a dropdown: "icon date dataset method (accuracy)" -> run id."""
    choices = []
    for row in service().list(owner):
        if states and row.state not in states:
            continue
        when = time.strftime("%m-%d %H:%M", time.localtime(row.created))
        label = f"{row.state} · {when} · {row.dataset} · {row.method}{row.headline} · {row.id[-6:]}"
        choices.append((label, row.id))
    return choices


def scores_text(scores: dict, bold: bool = False) -> str:
    """The headline pair: accuracy and macro-F1 (multi-label runs: micro-F1 and macro-F1)."""
    first = ("accuracy", "accuracy") if scores.get("accuracy") is not None else ("micro-F1", "micro_f1")
    wrap = (lambda v: f"<b>{v:.3f}</b>") if bold else (lambda v: f"{v:.3f}")
    return f"{first[0]} {wrap(scores.get(first[1]) or 0.0)}, macro-F1 {wrap(scores.get('macro_f1') or 0.0)}"


def finished_runs(owner: str, current: str | None, train_run: str | None, followed: str | None,
                  keep_typed: bool = False) -> tuple:
    """(dropdown update, followed) for a tab that picks a finished run: the run shown in the Train tab once it has
    finished (once: a run picked here afterwards stays picked), else the current pick, else the newest."""
    choices = run_choices(owner, states=("succeeded",))
    ids = [c[1] for c in choices]
    if train_run in ids and train_run != followed:
        return gr.update(choices=choices, value=train_run), train_run
    # Where the user may type (Predict): whatever they typed stays (a Hub id, tuned:<run>, base:<run>, a run id), so
    # a refresh of the list never swaps it for another model; a wrong one gets its message when used.
    keep = current in ids or (keep_typed and bool(current))
    if keep_typed and not keep and not ids:  # nothing to pick: leave the box alone (the user may be typing in it)
        return gr.update(choices=choices), followed
    return gr.update(choices=choices, value=current if keep else (ids[0] if ids else None)), followed


def progress_html(status: RunStatus) -> str:
    """A progress bar with step, epoch, elapsed and ETA, then the result; texts are escaped."""
    state, progress = status.state, status.progress
    parts = [f"<b style='color:{STATE_COLOURS.get(state, '#000')}'>{html.escape(state)}</b>"]
    if status.phase and state == "running":
        parts.append(html.escape(status.phase))
    if state == "queued":
        parts.append(f"position in queue: {(status.queue_position or 0) + 1}")
    if progress:
        parts += [f"step {progress.step}/{progress.max_steps or '?'}", f"epoch {progress.epoch:.2f}",
                  f"elapsed {progress.elapsed_s:.0f} s"]
        if progress.eta_s is not None and state == "running":
            parts.append(f"ETA {progress.eta_s:.0f} s")
    if status.latest_eval.get("macro_f1") is not None:
        parts.append(f"validation {scores_text(status.latest_eval)}")
    error = f"<div class='run-error'>{html.escape(status.error)}</div>" if status.error else ""
    return (f"<div id='run-progress' data-state='{html.escape(state)}'>"
            f"<progress max='100' value='{100 * status.fraction:.1f}' style='width:100%'></progress>"
            f"<div>{' · '.join(parts)}</div>{result_html(status)}{error}</div>")


def settings_used_html(resolved: dict) -> str:
    """The settings the run resolved (auto's choices), with each one's reason in the tooltip."""
    if not resolved.get("why"):
        return ""
    method = resolved.get("method", "full")
    used = (f"method {method}, "
            + (f"{resolved['total_steps']:,} steps of {resolved['batch_size']} pairs, learning rate "
               f"{resolved['learning_rate']:g}, head: {resolved.get('head_init')}" if method == "setfit" else
               f"epochs {resolved['epochs']:g}, batch {resolved['batch_size']}, learning rate "
               f"{resolved['learning_rate']:g} (head {resolved['head_learning_rate']:g}), head from a "
               f"{resolved.get('head_init')} start")
            + f", max length {resolved.get('max_length')}, {resolved.get('precision')}, pooling "
              f"{resolved.get('pooling')}, class weights {'on' if resolved.get('class_weights') else 'off'}")
    why = "; ".join(f"{k}: {v}" for k, v in resolved["why"].items())
    return f"<div id='resolved-settings' title='{html.escape(why)}'>Settings used: {html.escape(used)}</div>"


def result_html(status: RunStatus) -> str:
    """Scores, settings used, how it stopped, the label check, the recommendation, and what to do next."""
    state, result = status.state, ""
    if status.best:
        result = (f"<div>Fine-tuned: {scores_text(status.best, bold=True)}"
                  + (f" · quick baseline: {scores_text(status.baseline)}" if status.baseline else "") + "</div>")
    result += settings_used_html(status.resolved)
    if status.stopped_at_step is not None:
        result += (f"<div>Stopped by you at step {status.stopped_at_step}: the best model up to then was evaluated "
                   f"and kept.</div>")
    elif status.stop_requested and state == "running":
        result += "<div>Stopping after this step; the best model so far will be evaluated and kept…</div>"
    checked = status.label_errors
    if checked.get("flagged"):
        result += (f"<div id='label-check'>Label check: about {checked['flagged']:,} of {checked['checked']:,} "
                   f"training rows look mislabeled; see them in Metrics.</div>")
    if status.recommended:
        result += f"<div id='recommendation'>{html.escape(status.recommended.message)}</div>"
    if status.reproduce and not status.active:
        result += (f"<details id='reproduce'><summary>Reproduce this run</summary>With the run's config.json "
                   f"(its settings, resolved) and your file: <code>{html.escape(status.reproduce)}</code>; "
                   f"or <b>Start again</b> trains the same settings on the same data here.</details>")
    if state == "succeeded":
        result += ("<div id='next-step'><b>Next</b>: compare the curves and errors in <b>Metrics</b>, try the model "
                   "on your own texts in <b>Predict</b>, or push it to the Hub in <b>Publish</b>.</div>")
    return result


def summary_markdown(report: dict | None, owner: str, config: TrainConfig) -> str:
    """What Start would train, and how long it should take here, said before Start."""
    if not report:
        return "**Nothing to train yet**: choose a dataset in the Data tab."
    e = markdown_text
    sizes = report["split_sizes"]
    multi = report.get("task") == "multi"
    plan = service().estimate(owner, config, report)
    return (f"**About to train**: {e(report['file']['name'])} · {'multi-label' if multi else 'single-label'} · "
            f"{len(report['labels'])} {'labels' if multi else 'classes'} · {sizes['train']:,} train / "
            f"{sizes['validation']:,} validation rows · {e(display_name(config.model))} · "
            f"{METHOD_NAMES[plan.method]}  \n**Method**: {e(plan.method_why)}  \n**Plan**: {e(plan.describe())}"
            + (f"  \n**Model**: {e(auto_plan(config.time_budget_minutes))}" if config.model == AUTO_MODEL else "")
            + (f"  \n**Where**: Hugging Face Jobs on your account, {e(describe_flavor(config.where, plan.cautious_seconds))}"
               f" (billed per minute to you; sign in to allow jobs)" if config.where != HERE else "")
            + _your_settings(config))


def _your_settings(config: TrainConfig) -> str:
    """The settings the user changed from their defaults (every setting's label comes from its declaration)."""
    changed = {k: v for k, v in config.changed().items() if k not in ("Model", "Method")}  # said above
    if not changed:
        return ""
    shown = " · ".join(f"{label} {', '.join(v) if isinstance(v, list) else v}" for label, v in changed.items())
    return f"  \n**Your settings**: {markdown_text(shown)}"


def buttons_for(state: str | None, stopping: bool = False) -> tuple:
    """Stop, Cancel and Resume are enabled only where they can act on the shown run; while it is active, Start
    says it would start another run (a second click is not mistaken for "start this one")."""
    active = state in ("queued", "running")
    return (gr.update(interactive=state == "running" and not stopping), gr.update(interactive=active),
            gr.update(interactive=state == "interrupted"),
            gr.update(value="Start another run" if active else "Start training", variant="secondary" if active
                      else "primary"))


def activity_html(lines: list[str]) -> str:
    """The run's last lines, newest at the bottom, all of them in view (no box to scroll)."""
    body = "\n".join(html.escape(line) for line in lines) or "No activity yet."
    return f"<div class='activity' id='activity-lines'>{body}</div>"


@dataclass
class _View:
    """The tab's components, built by ``_layout`` and wired by the ``_wire_*`` functions."""

    summary: gr.Markdown
    form: train_form.SettingsForm
    start: gr.Button
    stop: gr.Button
    cancel: gr.Button
    resume: gr.Button
    again: gr.Button
    confirm_row: gr.Row
    confirm_yes: gr.Button
    confirm_no: gr.Button
    error: gr.Markdown
    runs: gr.Dropdown
    run_id: gr.Textbox
    progress: gr.HTML
    activity: gr.HTML
    timer: gr.Timer
    shown_state: gr.State  # the shown run's state, to redraw the run list and buttons only when it changes

    @property
    def buttons(self) -> list:
        return [self.stop, self.cancel, self.resume, self.start]

    @property
    def shown(self) -> list:
        """What ``show`` fills, and the error box."""
        return [self.progress, self.activity, self.shown_state, *self.buttons, self.error]


def _layout() -> _View:
    gr.Markdown(f"**Hardware**: {html.escape(service().hardware.get('description', 'unknown'))}", elem_id="hardware")
    summary = gr.Markdown(summary_markdown(None, "", TrainConfig()), elem_id="train-summary")
    form = train_form.build(int(service().hardware.get("gpu_count") or 0))
    with gr.Row():
        start = gr.Button("Start training", variant="primary", elem_id="start-training")
        stop = gr.Button("Stop and keep the best model", interactive=False, elem_id="stop-training")
        cancel = gr.Button("Cancel and discard", variant="stop", interactive=False, elem_id="cancel-training")
        resume = gr.Button("Resume", interactive=False, elem_id="resume-training")
        again = gr.Button("Start again", elem_id="start-again", min_width=120)
    with gr.Row(visible=False, elem_id="confirm-cancel") as confirm_row:
        gr.Markdown("**Cancel this run and discard it?** Its model is not kept; to keep the best model so far, "
                    "choose Stop and keep instead.")
        confirm_yes = gr.Button("Yes, discard it", variant="stop", elem_id="confirm-cancel-yes", min_width=120)
        confirm_no = gr.Button("No, keep training", elem_id="confirm-cancel-no", min_width=120)
    error = error_box("train-error")
    with gr.Row():
        runs = gr.Dropdown([], label="Your runs", interactive=True, elem_id="your-runs", scale=3, min_width=320)
        run_id = gr.Textbox(label="Run id (keep it to check this run from a script)", interactive=False,
                            elem_id="run-id", scale=2, min_width=320)
    progress = gr.HTML(elem_id="progress-box")
    activity = gr.HTML(label="Activity (last lines; library output is in the run's train.log)", elem_id="activity")
    return _View(summary, form, start, stop, cancel, resume, again, confirm_row, confirm_yes, confirm_no, error, runs,
                 run_id, progress, activity, gr.Timer(2.0), gr.State(None))


def show(current: str | None, owner: str) -> tuple:
    """Progress box, activity, state of the shown run and its buttons."""
    if not current:
        return ("<div id='run-progress' data-state='none'>No run selected yet.</div>", activity_html([]), None,
                *buttons_for(None))
    try:
        status = service().status(current, owner)
        return (progress_html(status), activity_html(service().activity(current, owner)), status.state,
                *buttons_for(status.state, status.stop_requested))
    except UserError as exc:
        return (f"<div id='run-progress' data-state='missing'>{html.escape(str(exc))}</div>", activity_html([]),
                None, *buttons_for(None))


def _refresh(current, browser, profile: gr.OAuthProfile | None = None, request: gr.Request = None):
    return show(current, owner_key(browser, profile, request))


def _tick(current, browser, last_state, profile: gr.OAuthProfile | None = None, request: gr.Request = None):
    """Every 2 s: progress and activity; the run list and buttons only when the shown run changed state."""
    owner = owner_key(browser, profile, request)
    progress_box, lines, state, *states = show(current, owner)
    if state == last_state:
        return progress_box, lines, gr.skip(), last_state, *[gr.skip()] * len(states)
    return progress_box, lines, gr.update(choices=run_choices(owner)), state, *states


def list_runs(browser, current, profile: gr.OAuthProfile | None = None, request: gr.Request = None):
    choices = run_choices(owner_key(browser, profile, request))
    ids = [c[1] for c in choices]
    value = current if current in ids else (ids[0] if ids else None)
    return gr.update(choices=choices, value=value), value


def _act(action: Callable[[str, str], object]):
    """A handler for a button that acts on the shown run (stop, cancel, resume), then shows it again."""
    @shown_errors(7)
    def handler(current, browser, profile: gr.OAuthProfile | None = None, request: gr.Request = None):
        if not current:
            raise UserError("No run selected.")
        owner = owner_key(browser, profile, request)
        action(current, owner)
        return show(current, owner)
    return handler


@shown_errors(2)
def _on_again(current, browser, profile: gr.OAuthProfile | None = None, oauth: gr.OAuthToken | None = None,
              request: gr.Request = None):
    if not current:
        raise UserError("No run selected: pick one of your runs to start again.")
    owner = owner_key(browser, profile, request)
    run = service().again(current, owner, token=publish_token(None, oauth))
    return run.id, gr.update(choices=run_choices(owner), value=run.id)


def _wire_run_controls(view: _View, browser_id: gr.BrowserState) -> None:
    """Stop, cancel (asking first), resume, start again, the run list and the 2-second refresh."""
    private = dict(api_visibility="private")
    view.stop.click(_act(service().stop), [view.run_id, browser_id], view.shown, **private)
    view.cancel.click(lambda: gr.update(visible=True), None, view.confirm_row, **private)  # discarding asks first
    view.confirm_no.click(lambda: gr.update(visible=False), None, view.confirm_row, **private)
    view.confirm_yes.click(lambda: gr.update(visible=False), None, view.confirm_row, **private).then(
        _act(service().cancel), [view.run_id, browser_id], view.shown, **private)
    view.resume.click(_act(service().resume), [view.run_id, browser_id], view.shown, **private)
    view.again.click(_on_again, [view.run_id, browser_id], [view.run_id, view.runs, view.error], **private)
    view.runs.input(lambda v: v, view.runs, view.run_id, **private)
    view.run_id.change(_refresh, [view.run_id, browser_id], view.shown[:-1], **private)
    view.timer.tick(_tick, [view.run_id, browser_id, view.shown_state],
                    [view.progress, view.activity, view.runs, view.shown_state, *view.buttons],
                    show_progress="hidden", **private)


def _wire_start(view: _View, data: DataTab, browser_id: gr.BrowserState) -> None:
    """Start, and the plan above it: both read the form's settings and the Data tab's label settings by name."""
    data_settings = {"text_column": data.text_column, "label_column": data.label_column, "task": data.task,
                     "label_delimiter": data.label_delimiter, "label_columns": data.label_columns}
    form = view.form
    settings = [*form.inputs, *data_settings.values()]

    def config_of(values) -> TrainConfig:
        """The form's values (``settings`` order) as a TrainConfig; the Data tab's settings by name."""
        return form.config(values[:len(form.inputs)], dict(zip(data_settings, values[len(form.inputs):])))

    def on_summary(path, report, browser, *values, profile: gr.OAuthProfile | None = None,
                   request: gr.Request = None):
        try:
            config = config_of(values)
            return summary_markdown(report if path else None, owner_key(browser, profile, request), config)
        except UserError as exc:
            return f"⚠️ {markdown_text(str(exc))}"
        except (AttributeError, KeyError, TypeError):  # not a report of ours (a script can send anything)
            return summary_markdown(None, "", TrainConfig())

    @shown_errors(2)
    def on_start(path, browser, *values, profile: gr.OAuthProfile | None = None, oauth: gr.OAuthToken | None = None,
                 request: gr.Request = None):
        if not path:
            raise UserError("Choose a dataset in the Data tab first.")
        owner = owner_key(browser, profile, request)
        # A run on Hugging Face Jobs runs on the signed-in visitor's own account, never the operator's.
        run = service().start(owner, path, config_of(values), token=publish_token(None, oauth))
        return run.id, gr.update(choices=run_choices(owner), value=run.id)

    private = dict(api_visibility="private")
    view.start.click(on_start, [data.path, browser_id, *settings], [view.run_id, view.runs, view.error], **private)
    # ... and when the shown run changes state: a finished run's measured speed is the next plan's basis
    gr.on([data.report.change, data.path.change, view.shown_state.change, *[c.change for c in form.inputs]],
          on_summary, [data.path, data.report, browser_id, *settings], view.summary, show_progress="hidden", **private)


def build(data: DataTab, browser_id: gr.BrowserState) -> TrainTab:
    view = _layout()
    _wire_run_controls(view, browser_id)
    _wire_start(view, data, browser_id)
    return TrainTab(run_id=view.run_id, runs=view.runs, list_runs=list_runs)
