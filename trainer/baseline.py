"""The quick baseline every run reports: frozen mean-pooled embeddings + logistic regression.

It answers "was fine-tuning worth it?" and is what "base model" means in the Predict
tab when the base encoder has no classification head of its own. The classifier is
stored as plain JSON numbers (no pickle), so loading it can never run code.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from .metrics import scores, softmax


@torch.inference_mode()
def masked_mean(hidden, attention_mask) -> np.ndarray:
    """Sentence-transformers' mean pooling: the mean of the real (unpadded) tokens' vectors.

    Training's warm start and the baseline's predictions both use it, so the baseline
    reproduces the scores it reported.
    """
    mask = attention_mask.unsqueeze(-1).float()
    return ((hidden.float() * mask).sum(1) / mask.sum(1).clamp(min=1)).cpu().numpy()


def load_encoder(model: str | None):
    """(tokenizer, frozen encoder in eval mode) of a base model: the embedded default, a Hub id or a path."""
    from transformers import AutoModel, AutoTokenizer

    from .models import resolve_model

    path = resolve_model(model)
    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=False)
    encoder = AutoModel.from_pretrained(path, trust_remote_code=False, use_safetensors=True).eval()
    encoder.requires_grad_(False)  # frozen: no autograd graph is built when it embeds
    return tokenizer, encoder


def embed(texts: list[str], model, tokenizer, max_length: int, batch_size: int = 128, device: str = "cpu") -> np.ndarray:
    """Mean-pooled last hidden states, in length-sorted batches (less padding, same result)."""
    order = np.argsort([len(t) for t in texts])
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        index = order[start:start + batch_size]
        batch = tokenizer([texts[i] for i in index], truncation=True, max_length=max_length, padding=True,
                          return_tensors="pt").to(device)
        out[index] = masked_mean(model(**batch).last_hidden_state, batch["attention_mask"])
    return out


class Baseline:
    """A logistic regression over frozen embeddings of a base encoder."""

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, max_length: int):
        self.coef, self.intercept, self.max_length = coef, intercept, max_length

    @classmethod
    def fit(cls, features: np.ndarray, labels: np.ndarray, n_labels: int, balanced: bool, max_length: int) -> "Baseline":
        clf = LogisticRegression(max_iter=2000, C=1.0, class_weight="balanced" if balanced else None)
        clf.fit(features, labels)
        coef = np.zeros((n_labels, features.shape[1]), dtype=np.float64)
        intercept = np.full(n_labels, -1e4)
        classes = clf.classes_.astype(int)
        if len(classes) == 2 and clf.coef_.shape[0] == 1:  # binary: sklearn keeps one row
            coef[classes[1]], intercept[classes[1]] = clf.coef_[0], clf.intercept_[0]
            coef[classes[0]], intercept[classes[0]] = 0.0, 0.0
        else:
            coef[classes], intercept[classes] = clf.coef_, clf.intercept_
        return cls(coef, intercept, max_length)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        return softmax(features @ self.coef.T + self.intercept)

    def evaluate(self, features: np.ndarray, labels: np.ndarray) -> dict:
        return scores(labels, self.probabilities(features).argmax(-1))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"coef": self.coef.tolist(), "intercept": self.intercept.tolist(),
                                    "max_length": self.max_length}))

    @classmethod
    def load(cls, path: Path) -> "Baseline":
        data = json.loads(path.read_text())
        return cls(np.array(data["coef"]), np.array(data["intercept"]), int(data["max_length"]))
