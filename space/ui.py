"""Assembles the tabs into one Blocks app."""

from __future__ import annotations

import os

import gradio as gr

from . import api, data_tab, metrics_tab, predict_tab, publish_tab, scratch, train_tab
from trainer.runs.store import storage_note

from .common import browser_state_secret, new_browser_id, service

INTRO = """# ClassiTune
Turn a labeled CSV into a deployed text classifier: **Data** → **Train** (LoRA or full fine-tune) → **Metrics** →
**Predict** → **Publish** to the Hub.
Training runs in a background process: close this tab and come back, your runs are still here."""


def build_app() -> gr.Blocks:
    service()  # created while the app is built: on ZeroGPU, GPU functions must exist before launch
    age = int(scratch.max_age_seconds())
    with gr.Blocks(title="ClassiTune", delete_cache=(max(60, age // 3), age)) as app:  # uploads pruned like scratch
        browser_id = gr.BrowserState(None, storage_key="classitune-browser-id", secret=browser_state_secret())
        with gr.Row():
            gr.Markdown(INTRO)
            if os.environ.get("SPACE_ID"):
                gr.LoginButton()
        if note := storage_note():
            gr.Markdown(f"⚠️ {note}", elem_id="storage-note")
        with gr.Tabs(overflow_behavior="wrap"):  # on a phone every tab stays in view, none behind a "⋯" menu
            with gr.Tab("Data", id="data"):
                data = data_tab.build()
            with gr.Tab("Train", id="train"):
                train = train_tab.build(data, browser_id)
            with gr.Tab("Metrics", id="metrics") as metrics_page:
                metrics_tab.build(train, browser_id, metrics_page)
            with gr.Tab("Predict", id="predict") as predict_page:
                predict_tab.build(train, browser_id, predict_page)
            with gr.Tab("Publish", id="publish") as publish_page:
                publish_tab.build(train, browser_id, publish_page)
        api.build()
        private = dict(api_visibility="private")
        app.load(new_browser_id, browser_id, browser_id, **private).then(
            train.list_runs, [browser_id, train.run_id], [train.runs, train.run_id], **private)
    return app
