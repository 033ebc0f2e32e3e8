"""Publish a run to the Hugging Face Hub: the model, a classifier-grade model card, and a demo Space.

Uses ``huggingface_hub`` (``HfApi``, ``ModelCard``, ``ModelCardData``, ``EvalResult``) as is. The token is
passed to ``HfApi`` in memory only: never written to disk, logs, run directories, cards or results.
Every Hub failure becomes a ``UserError`` that says what to do; the local run is never modified.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from trainer.hub import card_multi_label as multi_card
from trainer.training.choice import BASELINE, check_choice, chosen_model
from trainer.config import METHOD_NAMES, TrainConfig
from trainer.errors import UserError
from trainer.runs.store import Run
from trainer.hub.setfit_export import write_setfit_folder
from trainer.tasks import task_of

LICENSES = ("apache-2.0", "mit", "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "openrail", "other")
DEFAULT_LICENSE = "apache-2.0"  # the embedded default model's license
TOKENS_URL = "https://huggingface.co/settings/tokens"


@dataclass
class PublishOptions:
    repo_id: str
    private: bool = False
    adapter_only: bool = False
    license: str = DEFAULT_LICENSE
    widget_examples: bool = False  # the user's own validation texts as widget examples: opt-in (data may be private)
    model: str = ""  # "tuned", "baseline" (SetFit format), or "" for the run's chosen model (choice.py)

    def validate(self) -> None:
        from huggingface_hub.utils import HFValidationError, validate_repo_id

        if self.model:
            check_choice(self.model)
        if self.license not in LICENSES:
            raise UserError(f"License {self.license!r} is not one of: {', '.join(LICENSES)}.")
        if "/" not in (self.repo_id or ""):
            raise UserError(f"Repo id {self.repo_id!r} needs a namespace: use '<your user name>/<model name>'.")
        try:
            validate_repo_id(self.repo_id)
        except HFValidationError as exc:
            raise UserError(f"The Hub would reject the repo id {self.repo_id!r}: use letters, digits, '-', '_' and '.', "
                            f"at most 96 characters, with no '--' or '..'.") from exc


GENERIC_FILE_NAMES = {"train", "training", "data", "dataset", "test", "validation", "dev", "labeled", "labels"}


def default_repo_id(user: str, run: Run) -> str:
    """``<user>/<dataset>-<base model>-<method>``, cleaned to what the Hub accepts."""
    status, config = run.status(), run.config()
    dataset = Path(status.get("dataset") or "data").stem
    if dataset.lower() in GENERIC_FILE_NAMES:  # "train.csv" names a split, not what the model does
        dataset = "text-classifier"
    base = (status.get("base_model_name") or config.get("model") or "model").split("/")[-1]
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{dataset}-{base}-{config.get('method', 'full')}")
    name = re.sub(r"-{2,}", "-", name).strip("-.")[:96]
    return f"{user}/{name}"


def _markdown_table(header: list[str], rows: list[list]) -> str:
    def cell(value) -> str:
        text = f"{value:.4f}" if isinstance(value, float) else str(value)
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def published_model(run: Run, options: PublishOptions) -> str:
    """Which of the run's models a push publishes: the one asked for, else the run's chosen model."""
    return options.model or chosen_model(run.status())


def model_card(run: Run, options: PublishOptions):
    """A ModelCard a stranger can use: metadata with model-index, data, setup, results, usage, limitations."""
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    status, config, labels = run.status(), run.config(), run.labels()
    is_baseline = published_model(run, options) == BASELINE
    evaluation = json.loads(run.path("baseline/evaluation.json" if is_baseline else "evaluation.json").read_text())
    report = json.loads(run.path("data_report.json").read_text()) if run.path("data_report.json").exists() else {}
    tuned, baseline = status.get("best") or {}, status.get("baseline") or {}
    best = baseline if is_baseline else tuned
    base_model = status.get("base_model_name") or config.get("model")
    dataset = status.get("dataset") or "user data"
    resolved = status.get("config_resolved") or {}
    multi = task_of(config).name == "multi"
    metrics = multi_card.METRICS if multi else (("accuracy", "accuracy", "Accuracy", None),
                                                ("macro_f1", "f1", "Macro F1", None))
    eval_results = [EvalResult(task_type="text-classification", task_name="Text Classification",
                               dataset_type=Path(dataset).stem, dataset_name=f"{dataset} (validation split)",
                               dataset_split="validation", metric_type=metric, metric_name=name,
                               metric_config=metric_config, metric_value=round(float(best[key]), 4))
                    for key, metric, name, metric_config in metrics if key in best]
    widget = None
    if options.widget_examples and run.path("eval_predictions.csv").exists():
        import pandas as pd

        texts = pd.read_csv(run.path("eval_predictions.csv"), keep_default_na=False)["text"].head(3).tolist()
        widget = [{"text": t} for t in texts]
    if is_baseline:
        library, tags = "setfit", ["text-classification", "classitune", "setfit", "sentence-transformers"]
    else:
        library = "peft" if options.adapter_only else "transformers"
        tags = ["text-classification", "classitune", config.get("method", "full")] + (
            ["lora"] if config.get("method") == "lora" else [])
    data = ModelCardData(
        base_model=base_model, library_name=library,
        pipeline_tag="text-classification", license=options.license, language=None, tags=tags,
        model_name=options.repo_id.split("/")[-1], eval_results=eval_results or None, widget=widget)

    class_counts = report.get("class_counts") or {}
    per_class = [[c["label"], c["precision"], c["recall"], c["f1"], c["support"]] for c in evaluation["per_class"]]
    confusion = [[labels[i], *row] for i, row in enumerate(evaluation.get("confusion") or [])]
    sizes = report.get("split_sizes") or {}
    repo = options.repo_id
    if is_baseline and multi:
        usage = multi_card.setfit_usage(repo)
    elif is_baseline:
        usage = (f"```python\nfrom setfit import SetFitModel\n\nmodel = SetFitModel.from_pretrained(\"{repo}\")\n"
                 f"print(model.predict([\"Your text here\"]))        # label names\n"
                 f"print(model.predict_proba([\"Your text here\"]))  # one probability per label, in the order above\n```")
    elif options.adapter_only:
        usage = (f"```python\nfrom peft import AutoPeftModelForSequenceClassification\nfrom transformers import AutoTokenizer, pipeline\n\n"
                 f"model = AutoPeftModelForSequenceClassification.from_pretrained(\"{repo}\").merge_and_unload()\n"
                 f"tokenizer = AutoTokenizer.from_pretrained(\"{repo}\")\n"
                 f"classifier = pipeline(\"text-classification\", model=model, tokenizer=tokenizer)\n"
                 f"print(classifier(\"Your text here\", truncation=True))  # truncated where training truncated\n```")
    elif multi:
        usage = multi_card.usage(repo)
    else:
        usage = (f"```python\nfrom transformers import pipeline\n\nclassifier = pipeline(\"text-classification\", "
                 f"model=\"{repo}\")\nprint(classifier(\"Your text here\", truncation=True))  # truncated where training truncated\n```")
    confusion_table = _markdown_table(["true / predicted", *labels], confusion)
    if is_baseline:
        recommended = (status.get("recommended") or {}).get("model") == BASELINE
        what = (f"A text classifier in [SetFit](https://github.com/huggingface/setfit) format: the frozen "
                f"[{base_model}](https://huggingface.co/{base_model}) encoder (mean pooling) with a logistic-regression "
                f"head fitted by [ClassiTune](https://huggingface.co/spaces). "
                + ("It scored higher on validation than fine-tuning the encoder on the same data, so it is the model "
                   "this run recommends." if recommended else
                   "Fine-tuning the encoder on the same data scored higher on validation (see Results); this "
                   "simpler model was published by choice."))
        hyper = {"head": "scikit-learn LogisticRegression (lbfgs, C=1)", "encoder": f"{base_model}, frozen",
                 "pooling": "mean of token vectors, not normalised", "class_weight":
                 ("square-root balanced" if resolved.get("task") == "single-label" else "balanced")
                 if resolved.get("class_weights") else "none", "max_length": resolved.get("max_length")}
    else:
        what = (f"A text classifier fine-tuned from [{base_model}](https://huggingface.co/{base_model}) with "
                f"[ClassiTune](https://huggingface.co/spaces) ({METHOD_NAMES.get(config.get('method'), 'fine-tune')})."
                + (" The encoder was trained SetFit-style on pairs of training texts (same label or not, "
                   "cosine-similarity loss), then the classification head was fitted as a logistic regression on its "
                   "features; it is saved as a standard transformers classifier." if config.get("method") == "setfit"
                   else ""))
        hyper = _training_rows(config, resolved, status)
    other_name = ("fine-tuned encoder (not published here)" if is_baseline else
                  f"quick baseline: frozen {base_model} embeddings + logistic regression")
    other = tuned if is_baseline else baseline
    rows = [["this model", best.get("accuracy", float("nan")), best.get("macro_f1", float("nan"))],
            [other_name, other.get("accuracy", float("nan")), other.get("macro_f1", float("nan"))]]
    results = (multi_card.results(_markdown_table, best, other_name + (" (one-vs-rest)" if not is_baseline else ""),
                                  other, evaluation, "`label_thresholds.json`" if is_baseline else
                                  "`config.json` (`label_thresholds`)") if multi
               else f"""{_markdown_table(['model', 'accuracy', 'macro-F1'], rows)}

Per class:

{_markdown_table(['label', 'precision', 'recall', 'F1', 'support'], per_class)}

Confusion matrix (rows: true label, columns: predicted):

{confusion_table}""")
    limitation = multi_card.LIMITATION if multi else (
        f"- It only knows these {len(labels)} labels and always picks one of them, even for unrelated input;\n"
        f"  use the confidence to reject uncertain predictions.")
    body = f"""# {repo.split('/')[-1]}

{what} Given a text, it predicts {'any number (a set) of' if multi else 'one of'}
{len(labels)} labels ({'multi-label' if multi else 'single-label'} classification): {', '.join(f'`{label}`' for label in labels[:50])}{' ...' if len(labels) > 50 else ''}.

## Usage

{usage}

## Data

Trained on `{dataset}`: {sizes.get('train', '?')} training and {sizes.get('validation', '?')} validation examples
({report.get('split_source', 'held-out validation split')}).

{_markdown_table(['label', 'train', 'validation'], [[n, c['train'], c['validation']] for n, c in class_counts.items()]) if class_counts else ''}

## Training

{_markdown_table(['setting', 'value'], [[k, v] for k, v in hyper.items() if v is not None]) if isinstance(hyper, dict)
 else _markdown_table(['setting', 'value', 'what it does'], hyper)}

Hardware: {status.get('hardware', 'unknown')}. Training time: {status.get('train_seconds', '?')} s
({status.get('samples_per_second', '?')} samples/s). The best checkpoint by validation macro-F1 was kept.

## Results (validation split)

{results}

## Limitations

- The scores above come from a validation split of the same data; expect lower accuracy on text that differs
  from it (other domains, styles, languages or time periods).
{limitation}
- Inputs longer than {resolved.get('max_length', 'the maximum length')} tokens are truncated.
- It inherits the biases of {base_model} and of its training data; review errors (above) before relying on it.
"""
    return ModelCard(f"---\n{data.to_yaml()}\n---\n{body}")


# Settings a run resolves when left to auto (status ``config_resolved``): the card shows what was used.
RESOLVED = ("epochs", "learning_rate", "head_learning_rate", "batch_size", "max_length", "precision")


def _training_rows(config: dict, resolved: dict, status: dict) -> list[list]:
    """Every training setting (its label, value and help come from its declaration, config.py), with the values
    the run resolved for those left to auto, then what the method adds."""
    used = {**config, **{name: resolved[name] for name in RESOLVED if resolved.get(name) is not None}}
    used["pooling"] = "mean" if resolved.get("pooling") == "mean" else config.get("pooling", "auto")
    settings = TrainConfig.from_dict(used)
    rows = [[label, value, what] for label, value, what in settings.card_rows()
            if not (label.startswith("LoRA") and settings.method != "lora")]
    if settings.method == "setfit":
        rows += [["Training pairs", status.get("pairs"), "SetFit pairs (same label or not) the encoder trained on"],
                 ["Steps", resolved.get("total_steps"), "optimisation steps of pair batches"]]
    rows.append(["Class-weighted loss (used)", "yes" if resolved.get("class_weights") else "no",
                 "whether the run weighted its loss by class frequency"])
    return rows


def prepare_folder(run: Run, options: PublishOptions, folder: Path) -> Path:
    """Write exactly what would be uploaded: the merged model (or the LoRA adapter) and README.md."""
    options.validate()
    if run.status().get("state") != "succeeded":
        raise UserError(f"Run {run.id} has not finished successfully ({run.status().get('state')}); "
                        f"only finished runs can be published.")
    if published_model(run, options) == BASELINE:
        if not run.path("baseline/evaluation.json").exists():
            raise UserError(f"Run {run.id} was trained by an earlier version of ClassiTune that did not keep its quick "
                            f"baseline's per-class scores: publish its fine-tuned model, or train it again.")
        if options.adapter_only:
            raise UserError("The quick baseline has no LoRA adapter: publish it whole (untick 'adapter only'), "
                            "or choose the fine-tuned model.")
        write_setfit_folder(run, folder)
        model_card(run, options).save(folder / "README.md")
        return folder
    if options.adapter_only and (run.status().get("config_resolved") or {}).get("pooling") == "mean":
        raise UserError("This run's model has an added mean-pooling layer that its base model lacks, so the LoRA "
                        "adapter alone cannot rebuild it: publish the merged model (untick 'adapter only'), or train "
                        "with pooling=cls to publish adapters.")
    source = run.path("adapter") if options.adapter_only else run.model_dir
    if not source.is_dir():
        raise UserError("This run has no LoRA adapter (it was a full fine-tune); publish the merged model instead."
                        if options.adapter_only else "This run has no saved model.")
    folder.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_file() and item.name != "README.md":
            shutil.copy2(item, folder / item.name)
    model_card(run, options).save(folder / "README.md")
    return folder


def _api(token: str | None, endpoint: str | None):
    from huggingface_hub import HfApi

    if not token:
        raise UserError(f"No Hugging Face token: paste a token with write access ({TOKENS_URL}) in the token box "
                        f"(on a Hugging Face Space: or use its Sign in button), or set HF_TOKEN (in the app: for its "
                        f"operator only, with CLASSITUNE_OPERATOR_TOKEN=1).")
    return HfApi(endpoint=endpoint, token=token)


def _hub_error(exc: Exception, repo_id: str) -> UserError:
    """Turn what the Hub (or the network) said into something a user can act on."""
    from huggingface_hub.errors import HfHubHTTPError

    if isinstance(exc, HfHubHTTPError) and exc.response is not None:
        code = exc.response.status_code
        if code == 401:
            return UserError(f"The Hub rejected the token (invalid or expired). Create a new one with write access "
                             f"at {TOKENS_URL} and try again; your model is unchanged.")
        if code == 403:
            return UserError(f"The token has no write access to {repo_id!r}: it is read-only, the namespace "
                             f"belongs to someone else, or (signed in on the Space) the repo was not created by "
                             f"this app. Choose a new repo name, or paste a write token.")
        if code in (400, 422):
            return UserError(f"The Hub rejected the repo {repo_id!r}: {exc.server_message or exc}. Choose another name.")
        return UserError(f"The Hub answered {code} for {repo_id!r}; your model is unchanged, try again later.")
    return UserError(f"Could not reach the Hugging Face Hub ({type(exc).__name__}). Check the connection; "
                     f"your model is unchanged and the push can be retried.")


def _check_namespace(api, repo_id: str) -> str:
    """Fail early, with a clear message, for a read-only token or another user's namespace."""
    who = api.whoami(cache=False)
    user = who.get("name")
    role = ((who.get("auth") or {}).get("accessToken") or {}).get("role")
    if role == "read":
        raise UserError(f"The token of {user!r} is read-only. Create a token with write access at {TOKENS_URL}.")
    namespace = repo_id.split("/")[0]
    allowed = {user, *(org.get("name") for org in who.get("orgs") or [])}
    if namespace not in allowed:
        raise UserError(f"You are signed in as {user!r} and cannot push to {namespace!r}. "
                        f"Use '{user}/{repo_id.split('/')[-1]}' or one of your organisations.")
    return user


def whoami(token: str | None, endpoint: str | None = None) -> str:
    """The user name a token belongs to (for the default repo id)."""
    api = _api(token, endpoint)
    try:
        return api.whoami(cache=False)["name"]
    except UserError:
        raise
    except Exception as exc:
        raise _hub_error(exc, "your account") from None


def push(run: Run, options: PublishOptions, token: str | None, endpoint: str | None = None) -> dict:
    """Create (or update) the repo and upload the model and card in one commit; return its URL and commit."""
    options.validate()
    api = _api(token, endpoint)
    with tempfile.TemporaryDirectory(prefix="classitune-push-") as tmp:
        folder = prepare_folder(run, options, Path(tmp) / "upload")
        try:
            _check_namespace(api, options.repo_id)
            url = api.create_repo(options.repo_id, private=options.private, exist_ok=True)
            what = ("quick baseline (SetFit format)" if published_model(run, options) == BASELINE
                    else METHOD_NAMES.get(run.config().get("method"), "fine-tuned model"))
            # The repo then holds exactly this upload: a SetFit baseline's files do not linger beside a later
            # fine-tuned model (nor the reverse), where they would mislead loaders and the demo Space.
            info = api.upload_folder(folder_path=str(folder), repo_id=options.repo_id, delete_patterns=["*"],
                                     commit_message=f"Upload {what} from ClassiTune run {run.id}")
        except UserError:
            raise
        except Exception as exc:
            raise _hub_error(exc, options.repo_id) from exc
    return {"url": str(url), "commit": info.oid, "repo_id": options.repo_id}
