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

from trainer.training.batching import sorted_batches
from trainer.errors import UserError
from trainer.training.metrics import softmax
from trainer.training.sentence_classifier import MeanPooledClassifier, is_sentence_classifier
from trainer.models import model_max_length
from trainer.tasks import get_task

MAX_TEXTS_PER_REQUEST = 5000
MAX_CHARS_PER_REQUEST = 5_000_000  # ~1,000 chars per text at the text limit; stops one request hogging the CPU


@torch.inference_mode()
def batched_probabilities(model, tokenizer, texts: list[str], max_length: int, batch_size: int = 64,
                          activation=softmax) -> np.ndarray:
    """Class probabilities (``activation``: softmax, or a task's sigmoid) in the caller's order, computed in
    length-sorted batches (little padding)."""
    device = next(model.parameters()).device
    out = np.zeros((len(texts), model.config.num_labels), dtype=np.float64)

    def step(index: np.ndarray) -> None:
        batch = tokenizer([texts[i] for i in index], truncation=True, max_length=max_length, padding=True,
                          return_tensors="pt").to(device)
        out[index] = activation(model(**batch).logits.float().cpu().numpy())

    sorted_batches(texts, batch_size, step)  # halves its batch by itself when out of memory
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


def decision_thresholds(task, tuned: dict | None, labels: list[str], threshold: float | None) -> dict | None:
    """The tuned thresholds, or one threshold for every label (a multi-label caller's override)."""
    if threshold is None or task.name != "multi":
        return tuned
    if not isinstance(threshold, (int, float)) or not 0 < float(threshold) < 1:
        raise UserError(f"Threshold {threshold!r}: use a number between 0 and 1, or leave it empty for the tuned ones.")
    return {"mode": "global", "global": float(threshold), "per_label": {label: float(threshold) for label in labels}}


class SharedForward:
    """Concurrent requests to one model share forward passes (micro-batching), and none holds the model long.

    One forward pass runs at a time (torch already uses every core). Requests that arrive
    meanwhile queue up; whichever caller gets the model runs the next pass for all of them:
    at most ``PASS_TEXTS`` texts, the smallest requests first. So twenty one-text requests
    cost about one pass instead of twenty, and a 5,000-text request is served in passes
    between which a one-text request that arrived meanwhile gets its answer (one pass of
    waiting, a few seconds on a CPU, instead of the whole large request).
    """

    PASS_TEXTS = 256

    def __init__(self, forward):
        self.forward = forward
        self._queue: list[dict] = []
        self._queue_lock = threading.Lock()
        self._model_lock = threading.Lock()

    def __call__(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return self.forward([])
        request = {"texts": texts, "next": 0, "parts": [], "done": False}
        with self._queue_lock:
            self._queue.append(request)
        while not request["done"]:
            with self._model_lock:
                if not request["done"]:
                    self._pass()
        if "error" in request:
            raise request["error"]
        return np.concatenate(request["parts"])

    def _pass(self) -> None:
        """One forward pass over the next texts of the queued requests (caller holds the model lock)."""
        work, room = [], self.PASS_TEXTS
        with self._queue_lock:
            for r in sorted(self._queue, key=lambda r: len(r["texts"]) - r["next"]):
                take = min(room, len(r["texts"]) - r["next"])
                if take <= 0:
                    break
                work.append((r, r["next"], r["next"] + take))
                room -= take
        try:
            rows = self.forward([t for r, first, end in work for t in r["texts"][first:end]])
            start = 0
            for r, first, end in work:
                r["parts"].append(rows[start:start + end - first])
                r["next"], start = end, start + end - first
        except Exception as exc:  # every caller in the pass gets the error, not only the one that ran it
            for r, _, _ in work:
                r["error"], r["next"] = exc, len(r["texts"])
        with self._queue_lock:
            for r, _, _ in work:
                if r["next"] >= len(r["texts"]):
                    r["done"] = True
                    self._queue.remove(r)


class Classifier:
    """A fine-tuned sequence-classification model folder (a run's ``model/`` or any such folder), or a setfit run's
    SetFit-format ``model/`` (sentence_classifier.py)."""

    def __init__(self, model_dir: str, max_length: int | None = None, batch_size: int = 64):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=False)
            if is_sentence_classifier(Path(model_dir)):  # a setfit run's mean-reading model (SetFit format)
                self.model = MeanPooledClassifier.load(Path(model_dir))
            else:
                self.model = AutoModelForSequenceClassification.from_pretrained(
                    model_dir, trust_remote_code=False, use_safetensors=True).eval()
        except OSError as exc:
            raise UserError(f"Could not load a classifier from {model_dir!r}: {str(exc).splitlines()[0]}") from exc
        config = self.model.config
        self.labels = [config.id2label[i] for i in range(config.num_labels)]
        self.task = get_task("multi" if config.problem_type == "multi_label_classification" else "single")
        tuned = getattr(config, "label_thresholds", None)  # saved by a multi-label run; other models: 0.5
        self.thresholds = None if self.task.name != "multi" else {
            "mode": "per_label" if tuned else "global", "global": 0.5,
            "per_label": {label: float((tuned or {}).get(label, 0.5)) for label in self.labels}}
        # A run's model/ saves its tokenizer with the run's max_length: predictions match the reported scores.
        self.max_length, self.batch_size = max_length or model_max_length(self.tokenizer, config), batch_size
        self.probabilities = SharedForward(
            lambda texts: batched_probabilities(self.model, self.tokenizer, texts, self.max_length, self.batch_size,
                                                activation=self.task.probabilities))

    def predict(self, texts: list[str], top_k: int = 3, threshold: float | None = None) -> list[dict]:
        texts = check_texts(texts)
        thresholds = decision_thresholds(self.task, self.thresholds, self.labels, threshold)
        return self.task.decode(self.probabilities(texts), self.labels, thresholds, top_k)


class BaselineClassifier:
    """The base encoder + a run's logistic regression: what "base model" means for a headless encoder."""

    def __init__(self, run_dir: str):
        from trainer.training.baseline import Baseline, embed, load_encoder
        from trainer.runs.store import Run

        run = Run(Path(run_dir))
        path = run.path("baseline") / "baseline.json"
        if not path.exists():
            raise UserError("This run has no baseline (it did not finish), so there is no base model to compare.")
        self.baseline = Baseline.load(path)
        self.labels = run.labels()
        self.task, self.thresholds = get_task(self.baseline.task), self.baseline.thresholds
        self.tokenizer, self.encoder = load_encoder(run.config().get("model"))
        self.features = SharedForward(
            lambda texts: embed(texts, self.encoder, self.tokenizer, self.baseline.max_length))

    def predict(self, texts: list[str], top_k: int = 3, threshold: float | None = None) -> list[dict]:
        texts = check_texts(texts)
        thresholds = decision_thresholds(self.task, self.thresholds, self.labels, threshold)
        return self.task.decode(self.baseline.probabilities(self.features(texts)), self.labels, thresholds, top_k)


@lru_cache(maxsize=4)
def _cached(kind: str, path: str, stamp: float):
    return Classifier(path) if kind == "model" else BaselineClassifier(path)


def run_classifier(run_dir: Path, which: str | None = None):
    """(the classifier, its name) of a finished run: the model it recommends (or the user chose), unless ``which``
    (tuned or baseline) says otherwise."""
    from trainer.runs.store import Run
    from trainer.training.choice import BASELINE, check_choice, chosen_model

    run = Run(Path(run_dir))
    which = check_choice(which) if which else chosen_model(run.status())
    if which == BASELINE:  # built as the app builds it (service.classifier), one cached copy
        return load_classifier(run.dir, kind="baseline"), "the quick baseline (frozen encoder + logistic regression)"
    if not (run.model_dir / "config.json").exists():
        raise UserError(f"Run {run.dir.name} has no fine-tuned model (model/); it did not finish.")
    return load_classifier(run.model_dir), "the fine-tuned model (model/)"


def load_classifier(path: Path, kind: str = "model"):
    """A cached classifier; a folder rewritten since (a new training into it) is reloaded."""
    marker = path / ("config.json" if kind == "model" else "baseline/baseline.json")
    stamp = marker.stat().st_mtime if marker.exists() else 0.0
    return _cached(kind, str(path), stamp)
