"""Predict tab, whole files: a background job classifies a file or a Hub dataset of any size within the bound.

The instant Predict answers inside the web request, up to 5,000 texts; above that the tab offers
this job instead of refusing (trainer/batch/: a worker process, one job per user, resumable).
The panel shows the caller's latest job (so a reload finds it again), its rows done and time
left, a cancel button, and the finished file.
"""

from __future__ import annotations

import gradio as gr

from trainer.batch.jobs import keep_seconds
from trainer.batch.spec import BatchStatus, batch_limits
from trainer.jobs.flavors import FLAVORS, HERE
from trainer.jobs.flavors import describe as describe_flavor

from . import scratch
from .common import error_box, owner_key, publish_token, service, shown_errors
from .plain import markdown_text


WHERE_CHOICES = [("this machine (free, one job at a time)", HERE)] + [
    (f"Hugging Face Jobs: {describe_flavor(name, None)}", name) for name in FLAVORS]


def describe(job: BatchStatus) -> str:
    """One line a user reads: what, how far, how long, or why it failed."""
    state, total, done = job.state, job.rows_total, job.rows_done
    what = f"Batch job `{job.job_id}` on {markdown_text(job.input)} with {markdown_text(job.model)}"
    if job.where != HERE:
        page = f", [its page]({job.job_url})" if job.job_url else ""
        what += f" on Hugging Face Jobs ({job.where}{page})"
    if state == "queued" and job.where != HERE:
        return f"{what}: **handing it over** (uploading the input and the model to a private dataset repo of yours)."
    if state == "queued":
        return f"{what}: **waiting for a worker** (jobs run one after another, in the order they came)."
    if state == "running":
        if not total:
            return f"{what}: **reading the input**."
        eta = job.eta_seconds
        left = f", about {eta / 60:.0f} min left" if eta and eta >= 90 else f", about {eta:.0f} s left" if eta else ""
        speed = f" at {job.rows_per_second:,.0f} texts/s" if job.rows_per_second else ""
        return f"{what}: **{done:,} of {total:,} rows**{speed}{left}."
    if state == "succeeded":
        return f"{what}: **done**, {total:,} rows. Download the file below."
    if state == "failed":
        return f"{what}: **failed**. {markdown_text(job.error or '')}"
    return f"{what}: **cancelled** at {done:,} of {total or 0:,} rows."


def latest(browser: str | None, profile, request) -> BatchStatus | None:
    jobs = service().batch.list(owner_key(browser, profile, request))
    return jobs[0] if jobs else None


@shown_errors(3)
def start(model: str, upload: str | None, column: str | None, hub_dataset: str, split: str, hub_column: str,
          where: str | None, browser: str | None, profile: gr.OAuthProfile | None = None, oauth: gr.OAuthToken | None = None,
          request: gr.Request = None):
    owner = owner_key(browser, profile, request)
    hub_dataset = (hub_dataset or "").strip()
    if not hub_dataset and not upload:
        raise gr.Error("Upload a file above, or type a Hub dataset id, to classify it in the background.")
    text_column = (hub_column if hub_dataset else column) or "text"
    if text_column == "(one text per line)":
        text_column = "text"
    job = service().start_batch(owner, model or "", None if hub_dataset else upload, text_column, hub_dataset,
                                split or "train", token=publish_token(None, oauth), where=where or HERE)
    return describe(job), None, gr.Timer(active=True)


def refresh(shown: str | None, browser: str | None, profile: gr.OAuthProfile | None = None,
            request: gr.Request = None):
    """(status line, the result file once, which job's file is shown, whether to keep polling)."""
    job = latest(browser, profile, request)
    if job is None:
        return "", gr.skip(), shown, gr.Timer(active=False)
    file = gr.skip()
    if job.state == "succeeded" and shown != job.job_id:
        owner = owner_key(browser, profile, request)
        file, shown = scratch.copy_out(service().batch.result(job.job_id, owner)), job.job_id
    return describe(job), file, shown, gr.Timer(active=job.active)


@shown_errors(1)
def cancel(browser: str | None, profile: gr.OAuthProfile | None = None, request: gr.Request = None):
    job = latest(browser, profile, request)
    if job is None or not job.active:
        raise gr.Error("No batch job of yours is queued or running.")
    return describe(service().batch.cancel(job.job_id, owner_key(browser, profile, request)))


@shown_errors(1)
def push_latest(repo_id: str, private: bool, browser: str | None, profile: gr.OAuthProfile | None = None,
                oauth: gr.OAuthToken | None = None, request: gr.Request = None):
    """Push the caller's latest finished job's file, with their own sign-in (never the operator's token)."""
    job = latest(browser, profile, request)
    if job is None or job.state != "succeeded":
        raise gr.Error("No finished batch job of yours to push: wait until the job is done.")
    owner = owner_key(browser, profile, request)
    done = service().batch.push(job.job_id, owner, repo_id, publish_token(None, oauth), bool(private))
    return f"Pushed to [{markdown_text(done['repo_id'])}]({done['url']}) ({'private' if private else 'public'})."


def build(model: gr.Dropdown, upload: gr.File, column: gr.Dropdown, browser_id: gr.BrowserState,
          page: gr.Tab) -> None:
    limits = batch_limits()
    with gr.Accordion("Whole files: classify in the background", open=False, elem_id="batch-panel"):
        gr.Markdown(f"For a file over the instant limit (up to {limits.max_rows:,} rows and "
                    f"{limits.max_bytes / 2**20:,.0f} MB), or a Hub dataset: a background job labels every row and "
                    f"gives back the file with `predicted_label` and `score` columns, in its own format. It goes on "
                    f"if you close the page and resumes after a restart; one job per user at a time. The file is "
                    f"kept for {keep_seconds() / 3600:g} hours.")
        with gr.Row():
            hub_dataset = gr.Textbox(label="…or a Hub dataset id instead of the file", placeholder="user/dataset")
            split = gr.Textbox(label="Its split", value="train")
            hub_column = gr.Textbox(label="Its text column", value="text")
        with gr.Row():
            where = gr.Dropdown(WHERE_CHOICES, value=HERE, label="Where to run it", elem_id="batch-where",
                                info="Hugging Face Jobs runs on your own account and is billed to it per minute; it "
                                     "needs your sign-in with the 'jobs' permission. The price is per hour.")
            go = gr.Button("Start a background job", elem_id="batch-start")
            stop = gr.Button("Cancel the job", variant="stop", elem_id="batch-cancel")
        error = error_box("batch-error")
        status = gr.Markdown(elem_id="batch-status")
        result = gr.File(label="Predictions (the whole file)", elem_id="batch-result")
        with gr.Row():
            repo_id = gr.Textbox(label="…and/or push them to the Hub as a dataset", placeholder="<user>/<dataset>",
                                 elem_id="batch-repo", scale=3, min_width=240)
            private = gr.Checkbox(label="Private", value=True, scale=1, min_width=120)
            push = gr.Button("Push the predictions", scale=1, min_width=160, elem_id="batch-push")
        pushed = gr.Markdown(elem_id="batch-pushed")
    shown = gr.State(None)
    timer = gr.Timer(2.0, active=False)
    private_event = dict(api_visibility="private")
    go.click(start, [model, upload, column, hub_dataset, split, hub_column, where, browser_id], [status, result, timer, error],
             **private_event)
    for trigger in (timer.tick, page.select):
        trigger(refresh, [shown, browser_id], [status, result, shown, timer], **private_event)
    stop.click(cancel, [browser_id], [status, error], **private_event)
    push.click(push_latest, [repo_id, private, browser_id], [pushed, error], **private_event)
