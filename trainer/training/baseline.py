"""The quick baseline every run reports: frozen mean-pooled embeddings + logistic regression(s).

It answers "was fine-tuning worth it?" and is what "base model" means in the Predict
tab when the base encoder has no classification head of its own. The classifier is
stored as plain JSON numbers (no pickle), so loading it can never run code.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from trainer.tasks import get_task


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

    from trainer.models import resolve_model

    path = resolve_model(model)
    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=False)
    encoder = AutoModel.from_pretrained(path, trust_remote_code=False, use_safetensors=True).eval()
    encoder.requires_grad_(False)  # frozen: no autograd graph is built when it embeds
    return tokenizer, encoder


def embed(texts: list[str], model, tokenizer, max_length: int, batch_size: int = 128, device: str = "cpu") -> np.ndarray:
    """Mean-pooled last hidden states, in length-sorted batches (less padding, same result)."""
    from trainer.training import cancel

    order = np.argsort([len(t) for t in texts])
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        cancel.check()  # a cancelled run stops between batches (a frozen pass can take minutes)
        index = order[start:start + batch_size]
        batch = tokenizer([texts[i] for i in index], truncation=True, max_length=max_length, padding=True,
                          return_tensors="pt").to(device)
        out[index] = masked_mean(model(**batch).last_hidden_state, batch["attention_mask"])
    return out


class Baseline:
    """A logistic regression over frozen embeddings of a base encoder (one-vs-rest for multi-label runs)."""

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, max_length: int, task: str = "single",
                 thresholds: dict | None = None):
        self.coef, self.intercept, self.max_length = coef, intercept, max_length
        self.task, self.thresholds = task, thresholds

    @classmethod
    def fit(cls, features: np.ndarray, targets: np.ndarray, n_labels: int, balanced: bool, max_length: int,
            task: str = "single") -> "Baseline":
        coef, intercept = get_task(task).fit_linear(features, targets, n_labels, balanced)
        return cls(coef, intercept, max_length, task)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        return get_task(self.task).probabilities(features @ self.coef.T + self.intercept)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"coef": self.coef.tolist(), "intercept": self.intercept.tolist(),
                                    "max_length": self.max_length, "task": self.task,
                                    "thresholds": self.thresholds}))

    @classmethod
    def load(cls, path: Path) -> "Baseline":
        data = json.loads(path.read_text())
        return cls(np.array(data["coef"]), np.array(data["intercept"]), int(data["max_length"]),
                   data.get("task", "single"), data.get("thresholds"))
