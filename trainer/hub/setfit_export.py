"""The quick baseline as a SetFit model: a folder that ``SetFitModel.from_pretrained(path)`` loads in one line.

When the baseline (the frozen base encoder, mean pooling, a logistic regression) beats the
fine-tuned model, that pair is what a user should publish; the format is setfit_format.py's.
"""

from __future__ import annotations

from pathlib import Path

from trainer.models import resolve_model
from trainer.runs.store import Run
from trainer.training.baseline import Baseline
from trainer.training.setfit_format import write_setfit_files


def write_setfit_folder(run: Run, folder: Path) -> Path:
    """Write the run's baseline as a SetFit model into ``folder`` (README.md is left to the caller)."""
    from transformers import AutoModel, AutoTokenizer

    baseline = Baseline.load(run.path("baseline") / "baseline.json")
    base = resolve_model(run.config().get("model"))
    folder.mkdir(parents=True, exist_ok=True)
    encoder = AutoModel.from_pretrained(base, trust_remote_code=False, use_safetensors=True)
    encoder.save_pretrained(folder, safe_serialization=True)
    AutoTokenizer.from_pretrained(base, trust_remote_code=False).save_pretrained(folder)
    write_setfit_files(folder, baseline, run.labels(), int(baseline.coef.shape[1]))
    return folder
