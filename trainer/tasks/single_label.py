"""Single-label classification: one class per text; softmax, cross-entropy, accuracy and macro-F1."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression

from trainer.training.metrics import confusion, per_class, scores, softmax


def sqrt_balanced(counts: np.ndarray) -> np.ndarray:
    """sqrt(rows / (classes x rows of the class)) per class (0 for absent classes): the loss's and the linear
    probe's weights, so the warm-started head starts as it will be trained."""
    present = counts > 0
    return np.where(present, np.sqrt(counts.sum() / (present.sum() * np.maximum(counts, 1))), 0.0)


class SingleLabel:
    name, title, problem_type = "single", "single-label", "single_label_classification"
    ranking = ("macro_f1", "accuracy")  # how two models of a run are compared (choice.py)
    eval_keys = ("accuracy", "macro_f1", "weighted_f1", "precision", "recall")

    def targets(self, frame: pd.DataFrame, n_labels: int) -> np.ndarray:
        return frame["label"].to_numpy().astype("int64")

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        return softmax(logits)

    weighting = "square-root inverse-frequency class weights"

    def loss_weights(self, targets: np.ndarray, n_labels: int, mode: str) -> np.ndarray | None:
        """Class weights, on (``auto``) when the largest class has over 3x the smallest's rows: the square root of
        inverse frequency. Full inverse frequency over-corrects: on climate tweets (54 % vs 8 %) the logit offsets
        that maximise validation macro-F1 took back about half of it (BENCHMARKS.md, "Class weights")."""
        counts = np.bincount(targets, minlength=n_labels).astype(np.float64)
        present = counts[counts > 0]
        if mode == "off" or (mode == "auto" and present.max() <= 3 * present.min()):
            return None
        return sqrt_balanced(counts)

    def loss(self, logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(logits.float(), labels, weight=weights.to(logits.device))

    def fit_linear(self, features: np.ndarray, targets: np.ndarray, n_labels: int,
                   balanced: bool) -> tuple[np.ndarray, np.ndarray]:
        """A softmax logistic regression as (coef: labels x features, intercept); absent classes never win."""
        weights = sqrt_balanced(np.bincount(targets, minlength=n_labels).astype(np.float64)) if balanced else None
        clf = LogisticRegression(max_iter=2000, C=1.0,
                                 class_weight=None if weights is None else dict(enumerate(weights.tolist())))
        clf.fit(features, targets)
        coef = np.zeros((n_labels, features.shape[1]), dtype=np.float64)
        intercept = np.full(n_labels, -1e4)
        classes = clf.classes_.astype(int)
        if len(classes) == 2 and clf.coef_.shape[0] == 1:  # binary: sklearn keeps one row
            coef[classes[1]], intercept[classes[1]] = clf.coef_[0], clf.intercept_[0]
            coef[classes[0]], intercept[classes[0]] = 0.0, 0.0
        else:
            coef[classes], intercept[classes] = clf.coef_, clf.intercept_
        return coef, intercept

    def thresholds(self, truth: np.ndarray, probs: np.ndarray, labels: list[str], mode: str = "") -> None:
        return None  # the most probable class wins

    def scores(self, truth: np.ndarray, probs: np.ndarray, thresholds=None, labels=None) -> dict:
        return scores(truth, probs.argmax(-1))

    def evaluation(self, truth: np.ndarray, probs: np.ndarray, labels: list[str], thresholds=None) -> dict:
        predicted = probs.argmax(-1)
        return {"labels": labels, "scores": scores(truth, predicted), "per_class": per_class(truth, predicted, labels),
                "confusion": confusion(truth, predicted, len(labels))}

    def prediction_rows(self, texts, truth: np.ndarray, probs: np.ndarray, labels: list[str], thresholds=None):
        """``eval_predictions.csv``: header and rows."""
        predicted = probs.argmax(-1)
        rows = [[text, labels[t], labels[p], f"{conf:.4f}"]
                for text, t, p, conf in zip(texts, truth, predicted, probs.max(-1))]
        return ["text", "true_label", "predicted_label", "confidence"], rows

    def decode(self, probs: np.ndarray, labels: list[str], thresholds=None, top_k: int = 3) -> list[dict]:
        out = []
        k = max(1, min(top_k, len(labels)))
        for row in probs:
            order = np.argsort(-row)[:k]
            out.append({"label": labels[order[0]], "confidence": float(row[order[0]]),
                        "top_k": [{"label": labels[i], "score": float(row[i])} for i in order]})
        return out
