"""Batch prediction with a tuned model or the base model's quick baseline.

Texts are sorted by length and run in large batches under ``torch.inference_mode``;
results come back in the caller's order. Loaded models are cached per path.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .errors import UserError
from .metrics import softmax

MAX_TEXTS_PER_REQUEST = 5000
MAX_CHARS_PER_REQUEST = 5_000_000  # ~1,000 chars per text at the text limit; stops one request hogging the CPU


@torch.inference_mode()
def batched_probabilities(model, tokenizer, texts: list[str], max_length: int, batch_size: int = 64) -> np.ndarray:
    """Class probabilities in the caller's order, computed in length-sorted batches (little padding)."""
    device = next(model.parameters()).device
    order = np.argsort([len(t) for t in texts], kind="stable")
    out = np.zeros((len(texts), model.config.num_labels), dtype=np.float64)
    for start in range(0, len(texts), batch_size):
        index = order[start:start + batch_size]
        batch = tokenizer([texts[i] for i in index], truncation=True, max_length=max_length, padding=True,
                          return_tensors="pt").to(device)
        out[index] = softmax(model(**batch).logits.float().cpu().numpy())
    return out


def check_texts(texts: list[str]) -> list[str]:
    """Refuse what one request must not carry, with the limit and what to do."""
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise UserError("Texts must be a list of strings (or one string with one text per line).")
    if not texts:
        raise UserError("No texts to classify: send at least one text.")
    if len(texts) > MAX_TEXTS_PER_REQUEST:
        raise UserError(f"{len(texts):,} texts in one request; the limit is {MAX_TEXTS_PER_REQUEST:,}. "
                        f"Split the input into smaller batches.")
    chars = sum(len(t) for t in texts)
    if chars > MAX_CHARS_PER_REQUEST:
        raise UserError(f"{chars:,} characters in one request; the limit is {MAX_CHARS_PER_REQUEST:,}. The model reads "
                        f"only the first few hundred tokens of each text: trim long texts or send fewer per request.")
    return texts


def _results(probs: np.ndarray, labels: list[str], top_k: int) -> list[dict]:
    out = []
    k = max(1, min(top_k, len(labels)))
    for row in probs:
        order = np.argsort(-row)[:k]
        out.append({"label": labels[order[0]], "confidence": float(row[order[0]]),
                    "top_k": [{"label": labels[i], "score": float(row[i])} for i in order]})
    return out


class Classifier:
    """A fine-tuned sequence-classification model folder (a run's ``model/`` or any such folder)."""

    def __init__(self, model_dir: str, max_length: int = 256, batch_size: int = 64):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=False)
            self.model = AutoModelForSequenceClassification.from_pretrained(
                model_dir, trust_remote_code=False, use_safetensors=True).eval()
        except OSError as exc:
            raise UserError(f"Could not load a classifier from {model_dir!r}: {str(exc).splitlines()[0]}") from exc
        config = self.model.config
        self.labels = [config.id2label[i] for i in range(config.num_labels)]
        self.max_length, self.batch_size = max_length, batch_size
        self._lock = threading.Lock()

    def probabilities(self, texts: list[str]) -> np.ndarray:
        with self._lock:  # one forward at a time per model: torch already uses every core
            return batched_probabilities(self.model, self.tokenizer, texts, self.max_length, self.batch_size)

    def predict(self, texts: list[str], top_k: int = 3) -> list[dict]:
        texts = check_texts(texts)
        return _results(self.probabilities(texts), self.labels, top_k)


class BaselineClassifier:
    """The base encoder + a run's logistic regression: what "base model" means for a headless encoder."""

    def __init__(self, run_dir: str):
        from transformers import AutoModel, AutoTokenizer

        from .baseline import Baseline
        from .models import resolve_model
        from .runs import Run

        run = Run(Path(run_dir))
        path = run.path("baseline") / "baseline.json"
        if not path.exists():
            raise UserError("This run has no baseline (it did not finish), so there is no base model to compare.")
        self.baseline = Baseline.load(path)
        self.labels = run.labels()
        base = resolve_model(run.config().get("model"))
        self.tokenizer = AutoTokenizer.from_pretrained(base, trust_remote_code=False)
        self.encoder = AutoModel.from_pretrained(base, trust_remote_code=False, use_safetensors=True).eval()
        self._lock = threading.Lock()

    def predict(self, texts: list[str], top_k: int = 3) -> list[dict]:
        from .baseline import embed

        texts = check_texts(texts)
        with self._lock:
            features = embed(texts, self.encoder, self.tokenizer, self.baseline.max_length)
        return _results(self.baseline.probabilities(features), self.labels, top_k)


@lru_cache(maxsize=4)
def _cached(kind: str, path: str, stamp: float):
    return Classifier(path) if kind == "model" else BaselineClassifier(path)


def load_classifier(path: Path, kind: str = "model"):
    """A cached classifier; a folder rewritten since (a new training into it) is reloaded."""
    marker = path / ("config.json" if kind == "model" else "baseline/baseline.json")
    stamp = marker.stat().st_mtime if marker.exists() else 0.0
    return _cached(kind, str(path), stamp)
