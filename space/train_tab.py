"""Train tab: pick a model and method, start a run, watch it live, cancel or resume it."""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from typing import Callable

import gradio as gr

from trainer.config import TrainConfig
from trainer.errors import UserError

from .common import owner_key, service, user_errors
from .data_tab import DataTab

MODELS = [("all-MiniLM-L6-v2 (embedded, works offline)", "default"),
          ("BAAI/bge-small-en-v1.5", "BAAI/bge-small-en-v1.5"),
          ("distilbert-base-uncased", "distilbert-base-uncased"),
          ("bert-base-uncased", "bert-base-uncased"),
          ("roberta-base", "roberta-base"),
          ("microsoft/deberta-v3-small", "microsoft/deberta-v3-small")]
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
        if states and row["state"] not in states:
            continue
        when = time.strftime("%m-%d %H:%M", time.localtime(row["created"] or 0))
        score = f" acc {row['best_accuracy']:.3f}" if row.get("best_accuracy") is not None else ""
        label = f"{row['state']} · {when} · {row['dataset']} · {row['method']}{score} · {row['id'][-6:]}"
        choices.append((label, row["id"]))
    return choices


def progress_html(status: dict) -> str:
    """A progress bar with step, epoch, elapsed and ETA; texts are escaped."""
    state = status.get("state", "?")
    progress = status.get("progress") or {}
    percent = 100 * status.get("fraction", 0)
    eta = progress.get("eta_s")
    parts = [f"<b style='color:{STATE_COLOURS.get(state, '#000')}'>{html.escape(state)}</b>"]
    if status.get("phase") and state == "running":
        parts.append(html.escape(status["phase"]))
    if state == "queued":
        parts.append(f"position in queue: {status.get('queue_position', 0) + 1}")
    if progress:
        parts.append(f"step {progress.get('step', 0)}/{progress.get('max_steps', '?')}")
        parts.append(f"epoch {progress.get('epoch', 0):.2f}")
        parts.append(f"elapsed {progress.get('elapsed_s', 0):.0f} s")
        if eta is not None and state == "running":
            parts.append(f"ETA {eta:.0f} s")
    latest = status.get("latest_eval") or {}
    if latest.get("accuracy") is not None:
        parts.append(f"val acc {latest['accuracy']:.3f} · macro-F1 {latest['macro_f1']:.3f}")
    best, base = status.get("best"), status.get("baseline")
    result = ""
    if best:
        result = (f"<div>Fine-tuned: accuracy <b>{best['accuracy']:.3f}</b>, macro-F1 <b>{best['macro_f1']:.3f}</b>"
                  + (f" · quick baseline: accuracy {base['accuracy']:.3f}, macro-F1 {base['macro_f1']:.3f}" if base else "")
                  + "</div>")
    resolved = status.get("config_resolved") or {}
    if resolved.get("why"):
        used = (f"epochs {resolved['epochs']:g}, batch {resolved['batch_size']}, learning rate "
                f"{resolved['learning_rate']:g} (head {resolved['head_learning_rate']:g}), max length "
                f"{resolved.get('max_length')}, {resolved.get('precision')}, head from a {resolved.get('head_init')} "
                f"start, pooling {resolved.get('pooling')}, class weights {'on' if resolved.get('class_weights') else 'off'}")
        why = "; ".join(f"{k}: {v}" for k, v in resolved["why"].items())
        result += f"<div id='resolved-settings' title='{html.escape(why)}'>Settings used: {html.escape(used)}</div>"
    if status.get("recommended"):
        result += f"<div id='recommendation'>{html.escape(status['recommended']['message'])}</div>"
    error = f"<div class='run-error'>{html.escape(status['error'])}</div>" if status.get("error") else ""
    return (f"<div id='run-progress' data-state='{html.escape(state)}'>"
            f"<progress max='100' value='{percent:.1f}' style='width:100%'></progress>"
            f"<div>{' · '.join(parts)}</div>{result}{error}</div>")


def _config(model, method, epochs, learning_rate, batch_size, max_length, text_column, label_column, warmup_ratio,
            weight_decay, evals_per_epoch, patience, class_weights, freeze_embeddings, precision, seed,
            validation_fraction, lora_r, lora_alpha, lora_dropout, lora_targets, task="auto", label_delimiter=None,
            label_columns=None) -> TrainConfig:
    return TrainConfig(model=model or "default", method=method, epochs=epochs or None, learning_rate=learning_rate or None,
                       batch_size=batch_size or None, max_length=max_length or None, text_column=text_column or None,
                       label_column=label_column or None, warmup_ratio=warmup_ratio, weight_decay=weight_decay,
                       evals_per_epoch=evals_per_epoch, early_stopping_patience=patience, class_weights=class_weights,
                       freeze_embeddings=freeze_embeddings,
                       precision=precision, seed=seed, validation_fraction=validation_fraction, lora_r=lora_r,
                       lora_alpha=lora_alpha, lora_dropout=lora_dropout, lora_target_modules=lora_targets,
                       task=task or "auto", label_delimiter=label_delimiter or None, label_columns=label_columns or None)


def build(data: DataTab, browser_id: gr.BrowserState) -> TrainTab:
    gr.Markdown(f"**Hardware**: {html.escape(service().hardware.get('description', 'unknown'))}", elem_id="hardware")
    with gr.Row():
        model = gr.Dropdown(MODELS, value="default", label="Model (or type any Hub id; local folders: the CLI)",
                            allow_custom_value=True, scale=2)
        method = gr.Radio(["full", "lora"], value="full", label="Method", info="full fine-tune or LoRA adapters")
        epochs = gr.Number(value=0, label="Epochs (0 = from the data's size)", minimum=0, maximum=100,
                           elem_id="epochs")
    with gr.Row():
        learning_rate = gr.Number(value=0, label="Learning rate (0 = per-method default)")
        batch_size = gr.Number(value=0, label="Batch size (0 = auto: data size and hardware)", precision=0)
        max_length = gr.Number(value=0, label="Max length (0 = from the data)", precision=0)
    with gr.Accordion("Advanced", open=False):
        with gr.Row():
            warmup = gr.Number(value=0.06, label="Warmup ratio")
            decay = gr.Number(value=0.01, label="Weight decay")
            evals = gr.Number(value=1, label="Evaluations per epoch", precision=0)
            patience = gr.Number(value=3, label="Early-stopping patience (evaluations, 0 = off)", precision=0)
        with gr.Row():
            class_weights = gr.Radio(["auto", "on", "off"], value="auto", label="Class-weighted loss")
            freeze = gr.Checkbox(value=True, label="Freeze word embeddings (full fine-tune; faster)")
            precision = gr.Radio(["auto", "fp32", "bf16", "fp16"], value="auto", label="Precision")
            seed = gr.Number(value=42, label="Seed", precision=0)
            val_fraction = gr.Number(value=0.1, label="Validation fraction (when no split is given)")
        with gr.Row():
            lora_r = gr.Number(value=16, label="LoRA r", precision=0)
            lora_alpha = gr.Number(value=32, label="LoRA alpha")
            lora_dropout = gr.Number(value=TrainConfig.lora_dropout, label="LoRA dropout")
            lora_targets = gr.Textbox(value="all-linear", label="LoRA target modules (comma-separated)")
    with gr.Row():
        start = gr.Button("Start training", variant="primary", elem_id="start-training")
        cancel = gr.Button("Cancel", variant="stop", elem_id="cancel-training")
        resume = gr.Button("Resume (interrupted runs)")
    with gr.Row():
        runs = gr.Dropdown([], label="Your runs", interactive=True, elem_id="your-runs", scale=3)
        run_id = gr.Textbox(label="Run id (keep it to check this run from a script)", interactive=False,
                            elem_id="run-id", scale=2)
    progress = gr.HTML(elem_id="progress-box")
    log_tail = gr.Textbox(label="Log (last lines)", lines=8, max_lines=8, interactive=False, autoscroll=True)
    timer = gr.Timer(2.0)

    settings = [model, method, epochs, learning_rate, batch_size, max_length, data.text_column, data.label_column,
                warmup, decay, evals, patience, class_weights, freeze, precision, seed, val_fraction, lora_r, lora_alpha,
                lora_dropout, lora_targets, data.task, data.label_delimiter, data.label_columns]

    @user_errors
    def on_start(path, browser, *values, profile: gr.OAuthProfile | None = None, request: gr.Request = None):
        if not path:
            raise UserError("Choose a dataset in the Data tab first.")
        owner = owner_key(browser, profile, request)
        run = service().start(owner, path, _config(*values))
        return run.id, gr.update(choices=run_choices(owner), value=run.id)

    @user_errors
    def on_cancel(current, browser, profile: gr.OAuthProfile | None = None, request: gr.Request = None):
        if not current:
            raise UserError("No run selected.")
        owner = owner_key(browser, profile, request)
        service().cancel(current, owner)
        return show(current, owner)

    @user_errors
    def on_resume(current, browser, profile: gr.OAuthProfile | None = None, request: gr.Request = None):
        if not current:
            raise UserError("No run selected.")
        owner = owner_key(browser, profile, request)
        service().resume(current, owner)
        return show(current, owner)

    def show(current: str | None, owner: str) -> tuple[str, str, str | None]:
        """Progress box, log tail and state of the shown run."""
        if not current:
            return "<div id='run-progress' data-state='none'>No run selected yet.</div>", "", None
        try:
            status = service().status(current, owner)
            return progress_html(status), service().log_tail(current, owner), status.get("state")
        except UserError as exc:
            return f"<div id='run-progress' data-state='missing'>{html.escape(str(exc))}</div>", "", None

    def refresh(current, browser, profile: gr.OAuthProfile | None = None, request: gr.Request = None):
        return show(current, owner_key(browser, profile, request))[:2]

    def tick(current, browser, last_state, profile: gr.OAuthProfile | None = None, request: gr.Request = None):
        """Every 2 s: progress and log; the run list only when the shown run changed state (its label shows it)."""
        owner = owner_key(browser, profile, request)
        progress_box, log, state = show(current, owner)
        if state == last_state:
            return progress_box, log, gr.skip(), last_state
        return progress_box, log, gr.update(choices=run_choices(owner)), state

    def list_runs(browser, current, profile: gr.OAuthProfile | None = None, request: gr.Request = None):
        choices = run_choices(owner_key(browser, profile, request))
        ids = [c[1] for c in choices]
        value = current if current in ids else (ids[0] if ids else None)
        return gr.update(choices=choices, value=value), value

    private = dict(api_visibility="private")
    shown_state = gr.State(None)
    start.click(on_start, [data.path, browser_id, *settings], [run_id, runs], **private)
    cancel.click(on_cancel, [run_id, browser_id], [progress, log_tail, shown_state], **private)
    resume.click(on_resume, [run_id, browser_id], [progress, log_tail, shown_state], **private)
    runs.input(lambda v: v, runs, run_id, **private)
    run_id.change(refresh, [run_id, browser_id], [progress, log_tail], **private)
    timer.tick(tick, [run_id, browser_id, shown_state], [progress, log_tail, runs, shown_state], show_progress="hidden",
               **private)
    return TrainTab(run_id=run_id, runs=runs, list_runs=list_runs)
