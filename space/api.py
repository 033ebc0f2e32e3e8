"""Named API endpoints for ``gradio_client`` (and MCP): typed inputs and outputs, listed on "Use via API".

Each endpoint is bound to components in a hidden row, so files upload the usual
Gradio way and every input has a type. Who the caller is: the Hugging Face login
(``Client(url, oauth_token=hf_token)``, or the sign-in button) when there is one,
else the client's session; every endpoint that names a run checks it is the caller's.
"""

from __future__ import annotations

import gradio as gr

from trainer.training.choice import TUNED
from trainer.config import TrainConfig, settings_help
from trainer.errors import UserError
from trainer.intake.label_sets import LabelOptions
from trainer.jobs.flavors import FLAVORS
from trainer.service import BASE_MODEL, RUN_MODEL, model_reference

from . import scratch
from .common import INTAKE_EVENTS, owner_key, publish_token, service, user_errors


def _top_k(value) -> int:
    try:
        return max(1, int(value or 1))
    except (TypeError, ValueError):
        raise UserError(f"top_k must be a whole number such as 3, not {str(value)[:40]!r}.") from None


def _as_texts(texts) -> list[str]:
    if isinstance(texts, str):
        return [line for line in texts.splitlines() if line.strip()]
    if isinstance(texts, list) and all(isinstance(t, str) for t in texts):
        return texts
    raise UserError("texts must be a list of strings, or one string with one text per line.")


@user_errors
def validate_dataset(file: str, text_column: str = "", label_column: str = "", settings: dict | None = None) -> dict:
    """Check a dataset file and return the validation report.

    Args:
        file: a CSV, TSV, JSON Lines or Parquet file.
        text_column: the text column; empty to detect it.
        label_column: the label column; empty to detect it.
        settings: optional label settings, as in start_training: {"task": "auto" | "single" | "multi",
            "label_delimiter": ",", "label_columns": ["toxic", "insult"]}.
    Returns:
        The report: task (single or multi), label format, columns, labels, split sizes, class counts, dropped rows,
        duplicates, leakage, token lengths, warnings; multi-label data also labels per row and frequent pairs.
    """
    if not file:
        raise UserError("No file was sent.")
    if settings is not None and not isinstance(settings, dict):
        raise UserError("settings must be a JSON object such as {\"task\": \"multi\"}.")
    return service().validate(file, text_column, label_column, labels=LabelOptions.from_settings(settings)).report.to_dict()


@user_errors
def find_label_errors(file: str, text_column: str = "", label_column: str = "", settings: dict | None = None) -> dict:
    """Rank a dataset's rows by how likely their given label is wrong (a ranking to review, not a verdict).

    Args:
        file: a CSV, TSV, JSON Lines or Parquet file.
        text_column: the text column; empty to detect it.
        label_column: the label column; empty to detect it.
        settings: optional label settings, as in validate_dataset ({"task": "multi", "label_delimiter": ";"}).
    Returns:
        task, flagged (about how many rows look mislabeled), checked, total, note; rows (the 200 most suspicious:
        row number in the file, text, given_label, suggested_label, score, flagged; multi-label rows add change,
        given_labels, suggested_labels); near_duplicates (pairs of near-identical texts with different labels:
        row, other_row, text, other_text, label, other_label, similarity).
    """
    if not file:
        raise UserError("No file was sent.")
    if settings is not None and not isinstance(settings, dict):
        raise UserError("settings must be a JSON object such as {\"task\": \"multi\"}.")
    labels = LabelOptions.from_settings(settings)
    return service().label_errors(file, text_column, label_column, labels=labels).to_dict()


@user_errors
def start_training(file: str, text_column: str = "", label_column: str = "", settings: dict | None = None,
                   profile: gr.OAuthProfile | None = None, oauth_token: gr.OAuthToken | None = None,
                   request: gr.Request = None) -> str:
    """Start a fine-tune in the background and return its run id (keep it: it is the key to the run).

    Args:
        file: the training data (CSV, TSV, JSON Lines or Parquet).
        text_column: the text column; empty to detect it.
        label_column: the label column; empty to detect it.
        settings: training settings, e.g. {"method": "lora", "epochs": 3, "model": "default"}; any of:
            {SETTINGS}
    Returns:
        The run id.
    """
    if not file:
        raise UserError("No file was sent.")
    if settings is not None and not isinstance(settings, dict):
        raise UserError("settings must be a JSON object such as {\"method\": \"lora\", \"epochs\": 2}.")
    values = dict(settings or {})
    values.update({k: v for k, v in (("text_column", text_column), ("label_column", label_column)) if v})
    config = TrainConfig.from_dict(values)
    # where = a Jobs flavor: the run trains on the caller's own Hugging Face account (their sign-in), never the operator's
    return service().start(owner_key(None, profile, request, oauth_token), file, config,
                           token=publish_token(None, oauth_token)).id


# Every setting's line comes from its declaration (trainer/config.py), so the API's docs list each one.
start_training.__doc__ = start_training.__doc__.replace("{SETTINGS}", settings_help().replace("\n", "\n" + " " * 12))


@user_errors
def run_status(run_id: str, profile: gr.OAuthProfile | None = None, oauth_token: gr.OAuthToken | None = None,
               request: gr.Request = None) -> dict:
    """State (queued, running, succeeded, failed, cancelled, interrupted), progress, latest metrics and results."""
    return service().status(run_id, owner_key(None, profile, request, oauth_token)).to_dict()


@user_errors
def cancel_run(run_id: str, profile: gr.OAuthProfile | None = None, oauth_token: gr.OAuthToken | None = None,
               request: gr.Request = None) -> dict:
    """Cancel a queued or running run (stops within a few seconds, keeps its metrics); returns its status."""
    return service().cancel(run_id, owner_key(None, profile, request, oauth_token)).to_dict()


@user_errors
def stop_run(run_id: str, profile: gr.OAuthProfile | None = None, oauth_token: gr.OAuthToken | None = None,
             request: gr.Request = None) -> dict:
    """Stop a running run early and keep it: its best model so far is evaluated and saved like a finished run's."""
    return service().stop(run_id, owner_key(None, profile, request, oauth_token)).to_dict()


@user_errors
def list_runs(profile: gr.OAuthProfile | None = None, oauth_token: gr.OAuthToken | None = None,
              request: gr.Request = None) -> list:
    """Your runs, newest first: id, state, dataset, model, method, best accuracy and macro-F1."""
    return [row.to_dict() for row in service().list(owner_key(None, profile, request, oauth_token))]


@user_errors
def predict(texts, model: str, top_k: float = 3, compare_with_base: bool = False, threshold: float | None = None,
            profile: gr.OAuthProfile | None = None, oauth_token: gr.OAuthToken | None = None,
            request: gr.Request = None) -> list:
    """Classify texts with a run's model (its run id), ``tuned:<run id>``, ``base:<run id>``, or a Hub classifier id.

    Args:
        texts: a list of strings, or one string with one text per line.
        model: a run id (the model the run uses: the better of its fine-tuned model and quick baseline on
            validation, unless you chose with choose_model), "tuned:<run id>", "base:<run id>", or a Hub model id.
        top_k: how many ranked labels to return per text.
        threshold: multi-label models only: one decision threshold for every label (empty: the tuned ones).
        compare_with_base: also return the quick baseline's label per text (run ids only; for a run that uses
            its baseline, compare "tuned:<run id>" to see the two models side by side).
    Returns:
        One object per text: label, confidence, top_k (and base_label, base_confidence when comparing);
        multi-label models also give labels (the predicted label set) and scores (one per label), and
        base_labels when comparing.
    """
    owner = owner_key(None, profile, request, oauth_token)
    texts = _as_texts(texts)
    if not isinstance(model, str):
        raise UserError("model must be a run id, \"base:<run id>\" or a Hub model id.")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))):
        raise UserError(f"threshold must be a number between 0 and 1, not {str(threshold)[:40]!r}.")
    threshold = float(threshold) if threshold else None
    results = service().predict(model, texts, owner, top_k=_top_k(top_k), threshold=threshold,
                                token=publish_token(None, oauth_token))
    kind, name = model_reference(model)
    if compare_with_base and kind in (RUN_MODEL, TUNED):
        for result, base in zip(results, service().predict(f"{BASE_MODEL}:{name}", texts, owner, top_k=1,
                                                           threshold=threshold)):
            result.update(base_label=base["label"], base_confidence=base["confidence"])
            if "labels" in base:
                result["base_labels"] = base["labels"]
    return results


@user_errors
def choose_model(run_id: str, which: str, profile: gr.OAuthProfile | None = None,
                 oauth_token: gr.OAuthToken | None = None, request: gr.Request = None) -> dict:
    """Choose which of a finished run's models Predict (by run id) and Publish use; returns the run's status.

    Args:
        run_id: a finished run.
        which: "tuned" (the fine-tuned model) or "baseline" (frozen encoder + logistic regression).
    Returns:
        The run's status, with chosen_model and the run's recommendation.
    """
    return service().choose(run_id, owner_key(None, profile, request, oauth_token), which).to_dict()


@user_errors
def push_to_hub(run_id: str, repo_id: str, token: str = "", private: bool = False, adapter_only: bool = False,
                license: str = "apache-2.0", widget_examples: bool = False, model_choice: str = "",
                profile: gr.OAuthProfile | None = None, oauth_token: gr.OAuthToken | None = None,
                request: gr.Request = None) -> dict:
    """Push a finished run's model and model card to the Hub; returns the repo URL and commit.

    Args:
        run_id: the run to publish.
        repo_id: "<user or org>/<name>"; pushing again adds a commit to the same repo.
        token: a Hugging Face token with write access (used for this request only, never stored); empty to use
            the signed-in user's token (``Client(..., oauth_token=...)``), or HF_TOKEN where the operator set
            CLASSITUNE_OPERATOR_TOKEN=1 (an app private to them).
        private: create the repo as private.
        adapter_only: push the LoRA adapter instead of the merged model.
        license: the model's license.
        widget_examples: use three validation texts as widget examples.
        model_choice: "tuned" or "baseline" (published in SetFit format); empty for the run's chosen model.
    """
    from trainer.hub.publish import PublishOptions, push

    run = service().run(run_id, owner_key(None, profile, request, oauth_token))
    options = PublishOptions(repo_id=repo_id, private=private, adapter_only=adapter_only, license=license,
                             widget_examples=widget_examples, model=model_choice or "")
    return push(run, options, publish_token(token, oauth_token))


SETTINGS_SCHEMA = {"anyOf": [{"type": "object", "additionalProperties": True}, {"type": "null"}]}
TEXTS_SCHEMA = {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]}


@user_errors
def start_batch_prediction(file: str | None, model: str, text_column: str = "text", hub_dataset: str = "",
                           split: str = "train", where: str = "here", profile: gr.OAuthProfile | None = None,
                           oauth_token: gr.OAuthToken | None = None, request: gr.Request = None) -> dict:
    """Classify a whole file or Hub dataset in the background (one job per user); returns the job's status.

    Args:
        file: a CSV, TSV, JSON Lines, Parquet or .txt file (one text per line); empty when hub_dataset is given.
        model: a run id, "tuned:<run id>", "base:<run id>", or a Hub classifier id (as in predict).
        text_column: the column to classify.
        hub_dataset: a Hub dataset id to classify instead of a file (read with your sign-in, if any).
        split: the Hub dataset's split.
        where: "here" (this app's workers) or a Hugging Face Jobs flavor ({FLAVORS}) to run it on your own
            account, billed to you; needs your sign-in with the "jobs" permission, or a token with the jobs scope.
    Returns:
        job_id, state (queued, running, succeeded, failed, cancelled), rows_done, rows_total, rows_per_second,
        eta_seconds, error. Follow it with batch_prediction_status; fetch the file with batch_prediction_result.
    """
    if not isinstance(model, str):
        raise UserError("model must be a run id, \"base:<run id>\" or a Hub model id.")
    return service().start_batch(owner_key(None, profile, request, oauth_token), model, file or None,
                                 text_column or "text", hub_dataset or "", split or "train",
                                 token=publish_token(None, oauth_token), where=where or "here").to_dict()


start_batch_prediction.__doc__ = start_batch_prediction.__doc__.replace("{FLAVORS}", ", ".join(FLAVORS))


@user_errors
def batch_prediction_status(job_id: str, profile: gr.OAuthProfile | None = None,
                            oauth_token: gr.OAuthToken | None = None, request: gr.Request = None) -> dict:
    """A batch job's state, rows done of rows total, speed (rows per second), time left, and its error if it failed."""
    return service().batch.status(job_id, owner_key(None, profile, request, oauth_token)).to_dict()


@user_errors
def cancel_batch_prediction(job_id: str, profile: gr.OAuthProfile | None = None,
                            oauth_token: gr.OAuthToken | None = None, request: gr.Request = None) -> dict:
    """Cancel a queued or running batch job; returns its status."""
    return service().batch.cancel(job_id, owner_key(None, profile, request, oauth_token)).to_dict()


@user_errors
def batch_prediction_result(job_id: str, profile: gr.OAuthProfile | None = None,
                            oauth_token: gr.OAuthToken | None = None, request: gr.Request = None) -> str:
    """The finished job's file: the input's rows in order, with predicted_label and score (multi-label:
    predicted_labels and a score per label), in the input's format."""
    return scratch.copy_out(service().batch.result(job_id, owner_key(None, profile, request, oauth_token)))


@user_errors
def push_batch_result(job_id: str, repo_id: str, token: str = "", private: bool = True,
                      profile: gr.OAuthProfile | None = None, oauth_token: gr.OAuthToken | None = None,
                      request: gr.Request = None) -> dict:
    """Push a finished batch job's file to the Hub as a dataset (private unless private is false), with a short card
    naming the model; uses the token given, else your sign-in. Returns url, commit and repo_id."""
    owner = owner_key(None, profile, request, oauth_token)
    return service().batch.push(job_id, owner, repo_id, publish_token(token, oauth_token), bool(private))


def _json_input(label: str, schema: dict) -> gr.JSON:
    """A JSON input whose API type is a real JSON Schema: ``gr.JSON`` declares ``{"type": {}}``, which is none, so
    the MCP server's input check (``jsonschema.validate``) fails every call to a tool that takes it."""
    box = gr.JSON(label=label)
    box.api_info = lambda: dict(schema)
    return box


def build() -> None:
    """Hidden components carrying the named endpoints."""
    with gr.Row(visible=False):
        file = gr.File(label="file")
        text_column = gr.Textbox(label="text_column", value="")  # a value: optional for clients (MCP included)
        label_column = gr.Textbox(label="label_column", value="")
        settings = _json_input("settings", SETTINGS_SCHEMA)
        run_id = gr.Textbox(label="run_id")
        texts = _json_input("texts", TEXTS_SCHEMA)
        model = gr.Textbox(label="model")
        top_k = gr.Number(label="top_k", value=3)
        compare = gr.Checkbox(label="compare_with_base")
        threshold = gr.Number(label="threshold", value=None)
        report = gr.JSON(label="report")
        new_run = gr.Textbox(label="run_id")
        status = gr.JSON(label="status")
        runs = gr.JSON(label="runs")
        predictions = gr.JSON(label="predictions")
        repo_id = gr.Textbox(label="repo_id")
        token = gr.Textbox(label="token", type="password")
        private = gr.Checkbox(label="private")
        adapter_only = gr.Checkbox(label="adapter_only")
        license = gr.Textbox(label="license", value="apache-2.0")
        widget_examples = gr.Checkbox(label="widget_examples")
        which = gr.Textbox(label="which")
        model_choice = gr.Textbox(label="model_choice", value="")  # optional: older scripts omit it
        pushed = gr.JSON(label="result")
        hub_dataset = gr.Textbox(label="hub_dataset", value="")
        split = gr.Textbox(label="split", value="train")
        batch_column = gr.Textbox(label="text_column", value="text")
        where = gr.Textbox(label="where", value="here")  # optional: older scripts omit it
        job_id = gr.Textbox(label="job_id")
        job = gr.JSON(label="job")
        result_file = gr.File(label="result")
        batch_private = gr.Checkbox(label="private", value=True)  # a pushed result is private unless asked
        trigger = gr.Button(visible=False)
    endpoints = [
        (validate_dataset, [file, text_column, label_column, settings], report),
        (find_label_errors, [file, text_column, label_column, settings], report),
        (start_training, [file, text_column, label_column, settings], new_run),
        (run_status, [run_id], status),
        (cancel_run, [run_id], status),
        (stop_run, [run_id], status),
        (list_runs, [], runs),
        (predict, [texts, model, top_k, compare, threshold], predictions),
        (choose_model, [run_id, which], status),
        (push_to_hub, [run_id, repo_id, token, private, adapter_only, license, widget_examples, model_choice], pushed),
        (start_batch_prediction, [file, model, batch_column, hub_dataset, split, where], job),
        (batch_prediction_status, [job_id], job),
        (cancel_batch_prediction, [job_id], job),
        (batch_prediction_result, [job_id], result_file),
        (push_batch_result, [job_id, repo_id, token, batch_private], pushed),
    ]
    limits = {validate_dataset: INTAKE_EVENTS, find_label_errors: INTAKE_EVENTS, start_training: dict(concurrency_limit=1)}
    for fn, inputs, output in endpoints:
        trigger.click(fn, inputs, output, api_name=fn.__name__, api_description=fn.__doc__.split("\n")[0],
                      **limits.get(fn, dict(concurrency_limit=None)))



