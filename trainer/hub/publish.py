"""Publish a run to the Hugging Face Hub: the model, a classifier-grade model card, and a demo Space.

Uses ``huggingface_hub`` (``HfApi``, ``ModelCard``, ``ModelCardData``, ``EvalResult``) as is. The token is
passed to ``HfApi`` in memory only: never written to disk, logs, run directories, cards or results.
Every Hub failure becomes a ``UserError`` that says what to do; the local run is never modified.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from trainer.training.choice import BASELINE, check_choice, chosen_model
from trainer.config import METHOD_NAMES
from trainer.errors import UserError
from trainer.runs.store import Run
from trainer.hub.card import model_card, published_model
from trainer.hub.client import check_namespace, hub_api, hub_error
from trainer.hub.setfit_export import write_setfit_folder

LICENSES = ("apache-2.0", "mit", "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "openrail", "other")
DEFAULT_LICENSE = "apache-2.0"  # the embedded default model's license


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
    """``<user>/<dataset>-<base model>-<method>`` (``-setfit-baseline`` when the run uses its quick baseline, which
    is published in SetFit format), cleaned to what the Hub accepts."""
    status, config = run.status(), run.config()
    dataset = Path(status.get("dataset") or "data").stem
    if dataset.lower() in GENERIC_FILE_NAMES:  # "train.csv" names a split, not what the model does
        dataset = "text-classifier"
    base = (status.get("base_model_name") or config.get("model") or "model").split("/")[-1]
    what = "setfit-baseline" if chosen_model(status) == BASELINE else config.get("method", "full")
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{dataset}-{base}-{what}")
    name = re.sub(r"-{2,}", "-", name).strip("-.")[:96]
    return f"{user}/{name}"


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


def push(run: Run, options: PublishOptions, token: str | None, endpoint: str | None = None) -> dict:
    """Create (or update) the repo and upload the model and card in one commit; return its URL and commit."""
    options.validate()
    api = hub_api(token, endpoint)
    with tempfile.TemporaryDirectory(prefix="classitune-push-") as tmp:
        folder = prepare_folder(run, options, Path(tmp) / "upload")
        try:
            check_namespace(api, options.repo_id)
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
            raise hub_error(exc, options.repo_id) from exc
    return {"url": str(url), "commit": info.oid, "repo_id": options.repo_id}
