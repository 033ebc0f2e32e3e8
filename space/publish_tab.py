"""Publish tab: push a finished run to the Hub with its model card, and create a demo Space for it.

The token comes from "Sign in with Hugging Face" on a Space, else a password field, else ``HF_TOKEN`` where the
operator opted in (``CLASSITUNE_OPERATOR_TOKEN=1``).
It is used for the request only: never stored, logged or shown back.
"""

from __future__ import annotations

import html
import os

import gradio as gr

from trainer.errors import UserError
from trainer.hub.demo_space import create_demo_space
from trainer.hub.client import whoami
from trainer.hub.publish import LICENSES, PublishOptions, default_repo_id, model_card, push

from .common import error_box, owner_key, publish_token, service, shown_errors
from .train_tab import TrainTab, finished_runs


@shown_errors(1)
def suggest_repo(run_id: str | None, typed: str | None, browser: str | None, profile: gr.OAuthProfile | None = None,
                 oauth: gr.OAuthToken | None = None, request: gr.Request = None):
    if not run_id:
        raise UserError("Pick a finished run to publish.")
    run = service().run(run_id, owner_key(browser, profile, request))
    token = publish_token(typed, oauth)
    return default_repo_id(whoami(token) if token else "your-name", run)


@shown_errors(1)
def publish(run_id: str | None, repo_id: str, typed: str | None, private: bool, adapter_only: bool, license: str,
            widget_examples: bool, which: str, browser: str | None, profile: gr.OAuthProfile | None = None,
            oauth: gr.OAuthToken | None = None, request: gr.Request = None):
    if not run_id:
        raise UserError("Pick a finished run to publish.")
    run = service().run(run_id, owner_key(browser, profile, request))
    options = PublishOptions(repo_id=(repo_id or "").strip(), private=private, adapter_only=adapter_only,
                             license=license, widget_examples=widget_examples, model=which or "")
    result = push(run, options, publish_token(typed, oauth))
    url = html.escape(result["url"])
    return f"✅ Pushed to <a href='{url}' target='_blank'>{url}</a> (commit {result['commit'][:10]})."


@shown_errors(1)
def demo(repo_id: str, typed: str | None, private: bool, oauth: gr.OAuthToken | None = None):
    result = create_demo_space((repo_id or "").strip(), publish_token(typed, oauth), private=private)
    url = html.escape(result["url"])
    return f"✅ Demo Space: <a href='{url}' target='_blank'>{url}</a> (it builds in a minute or two)."


@shown_errors(1)
def preview_card(run_id: str | None, license: str, widget_examples: bool, which: str, browser: str | None,
                 profile: gr.OAuthProfile | None = None, request: gr.Request = None) -> str:
    """The model card a push would write, as its Markdown source (shown as text: it quotes the user's data)."""
    if not run_id:
        return ""
    run = service().run(run_id, owner_key(browser, profile, request))
    options = PublishOptions(repo_id=default_repo_id("your-name", run), license=license, widget_examples=widget_examples,
                             model=which or "")
    return str(model_card(run, options))


def build(train: TrainTab, browser_id: gr.BrowserState, page: gr.Tab) -> None:
    gr.Markdown("Push a finished run to the Hugging Face Hub with a model card (data, training setup, results, "
                "confusion matrix, usage, limitations). Pushing again updates the same repo with a new commit.")
    with gr.Row():
        run = gr.Dropdown([], label="Finished run", elem_id="publish-run", scale=3, min_width=320)
        token = gr.Textbox(label="Hugging Face token with write access (not stored)", type="password",
                           visible=not os.environ.get("SPACE_ID"), placeholder="hf_... (or set HF_TOKEN)", scale=2)
    with gr.Row():
        repo_id = gr.Textbox(label="Repo id", placeholder="<user>/<dataset>-<model>-<method>", scale=3,
                             elem_id="publish-repo")
        suggest = gr.Button("Suggest a name", scale=1)
    with gr.Row(elem_classes=["publish-options"]):  # stacked on a phone (style.py), not squeezed into slivers
        private = gr.Checkbox(label="Private", value=False, elem_id="publish-private")
        adapter_only = gr.Checkbox(label="LoRA adapter only (default: the merged model)", value=False)
        license = gr.Dropdown(list(LICENSES), value="apache-2.0", label="License (the base model's by default)")
        widget_examples = gr.Checkbox(label="Use 3 of my validation texts as widget examples", value=False)
    which = gr.Radio([("the model the run uses (Metrics tab)", ""), ("fine-tuned model", "tuned"),
                      ("quick baseline, in SetFit format", "baseline")], value="", label="Model to publish",
                     elem_id="publish-which")
    with gr.Row():
        push_button = gr.Button("Push to the Hub", variant="primary", elem_id="push")
        demo_button = gr.Button("Create a demo Space")
    error = error_box("publish-error")
    result = gr.HTML(elem_id="publish-result")
    with gr.Accordion("Preview the model card", open=False) as card_box:
        card = gr.Code(language="markdown", interactive=False, elem_id="card-preview", max_lines=40)

    def populate(browser, current, train_run, followed, profile: gr.OAuthProfile | None = None,
                 request: gr.Request = None):
        return finished_runs(owner_key(browser, profile, request), current, train_run, followed)

    private_api = dict(api_visibility="private")
    followed = gr.State(None)
    page.select(populate, [browser_id, run, train.run_id, followed], [run, followed], **private_api)
    suggest.click(suggest_repo, [run, token, browser_id], [repo_id, error], **private_api)
    push_button.click(publish, [run, repo_id, token, private, adapter_only, license, widget_examples, which,
                                browser_id],
                      [result, error], **private_api)
    demo_button.click(demo, [repo_id, token, private], [result, error], **private_api)
    gr.on([card_box.expand, run.change, which.change, license.change, widget_examples.change], preview_card,
          [run, license, widget_examples, which, browser_id], [card, error], **private_api)
