"""Multi-label classification: a set of labels per text; a sigmoid per label, tuned decision thresholds.

Thresholds are tuned on the validation split after training: one per label (the value
that maximises that label's F1), falling back to one global threshold (the value that
maximises macro-F1 over all labels) for labels with fewer than ``RARE_LABEL``
validation positives, whose own optimum is noise. Per-label is the default because
label frequencies differ by two orders of magnitude in real data (GoEmotions: "grief"
in 0.2 % of texts, "neutral" in 33 %), so no single cut serves both; ``global`` is a
setting. The headline metric, used for early stopping and the best checkpoint, is
macro-F1 at the tuned thresholds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (accuracy_score, average_precision_score, f1_score, hamming_loss,
                             precision_recall_fscore_support)

from trainer.intake.label_sets import RARE_LABEL

GRID = np.round(np.arange(0.02, 0.96, 0.01), 2)
MAX_POS_WEIGHT = 30.0


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -50, 50)))


def _f1_per_threshold(truth: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """F1 of one label at every threshold in GRID (truth, scores: one column)."""
    predicted = scores[:, None] >= GRID[None, :]
    positive = truth[:, None] > 0.5
    tp = (predicted & positive).sum(0)
    fp = (predicted & ~positive).sum(0)
    fn = (~predicted & positive).sum(0)
    return np.where(tp > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)


def _best(f1: np.ndarray) -> float:
    """The threshold of the best F1; among ties, the one nearest 0.5."""
    return float(GRID[np.argmax(f1 - 1e-9 * np.abs(GRID - 0.5))])


class MultiLabel:
    name, title, problem_type = "multi", "multi-label", "multi_label_classification"
    ranking = ("macro_f1", "micro_f1")
    eval_keys = ("micro_f1", "macro_f1", "samples_f1", "exact_match", "hamming_loss", "macro_ap")

    def targets(self, frame: pd.DataFrame, n_labels: int) -> np.ndarray:
        out = np.zeros((len(frame), n_labels), dtype=np.float32)
        for row, ids in enumerate(frame["label"]):
            out[row, np.asarray(ids, dtype=int)] = 1.0
        return out

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        return sigmoid(logits)

    weighting = "positive-class weights sqrt(negatives / positives)"

    def loss_weights(self, targets: np.ndarray, n_labels: int, mode: str) -> np.ndarray | None:
        """Positive-class weights sqrt(negatives / positives), at most 30: on (``auto``) when the most frequent
        label has over 3x the positives of the rarest. The square root keeps rare labels from flooding the
        predictions; the tuned thresholds do the rest of the calibration."""
        positives = targets.sum(0).astype(np.float64)
        present = positives[positives > 0]
        if mode == "off" or not len(present) or (mode == "auto" and present.max() <= 3 * present.min()):
            return None
        ratio = (len(targets) - positives) / np.maximum(positives, 1)
        return np.clip(np.sqrt(ratio), 1.0, MAX_POS_WEIGHT)

    def loss(self, logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.binary_cross_entropy_with_logits(
            logits.float(), labels.float(), pos_weight=weights.to(logits.device))

    def fit_linear(self, features: np.ndarray, targets: np.ndarray, n_labels: int,
                   balanced: bool) -> tuple[np.ndarray, np.ndarray]:
        """One-vs-rest logistic regressions, one binary model per label (a label always or never present in
        train gets a constant score)."""
        coef = np.zeros((n_labels, features.shape[1]), dtype=np.float64)
        intercept = np.zeros(n_labels)
        for j in range(n_labels):
            column = targets[:, j] > 0.5
            if column.all() or not column.any():
                intercept[j] = 20.0 if column.all() else -20.0
                continue
            clf = LogisticRegression(max_iter=2000, C=1.0, class_weight="balanced" if balanced else None)
            clf.fit(features, column.astype(int))
            coef[j], intercept[j] = clf.coef_[0], clf.intercept_[0]
        return coef, intercept

    def thresholds(self, truth: np.ndarray, probs: np.ndarray, labels: list[str], mode: str = "per_label") -> dict:
        """``{"mode", "global", "per_label": {label: threshold}, "fallback": [labels on the global one]}``."""
        curves = np.stack([_f1_per_threshold(truth[:, j], probs[:, j]) for j in range(len(labels))])
        global_t = _best(curves.mean(0))
        positives = truth.sum(0)
        per_label, fallback = {}, []
        for j, label in enumerate(labels):
            if mode == "global" or positives[j] < RARE_LABEL or curves[j].max() == 0:
                per_label[label] = global_t
                fallback.append(label)
            else:
                per_label[label] = _best(curves[j])
        return {"mode": mode, "global": global_t, "per_label": per_label, "fallback": fallback}

    @staticmethod
    def vector(thresholds: dict | None, labels: list[str]) -> np.ndarray:
        if not thresholds:
            return np.full(len(labels), 0.5)
        return np.array([thresholds["per_label"].get(label, thresholds["global"]) for label in labels])

    def predicted(self, probs: np.ndarray, labels: list[str], thresholds: dict | None) -> np.ndarray:
        return probs >= self.vector(thresholds, labels)[None, :]

    def scores(self, truth: np.ndarray, probs: np.ndarray, thresholds: dict | None = None, labels=None) -> dict:
        labels = labels or (list(thresholds["per_label"]) if thresholds else [str(i) for i in range(probs.shape[1])])
        truth = truth > 0.5
        predicted = self.predicted(probs, labels, thresholds)
        precision, recall, micro_f1, _ = precision_recall_fscore_support(truth, predicted, average="micro",
                                                                         zero_division=0)
        scored = truth.any(0)  # average precision is undefined for a label with no positives
        return {"micro_f1": float(micro_f1),
                "macro_f1": float(f1_score(truth, predicted, average="macro", zero_division=0)),
                "samples_f1": float(f1_score(truth, predicted, average="samples", zero_division=1)),
                "exact_match": float(accuracy_score(truth, predicted)),
                "hamming_loss": float(hamming_loss(truth, predicted)),
                "macro_ap": float(average_precision_score(truth[:, scored], probs[:, scored], average="macro"))
                if scored.any() else 0.0,
                "precision": float(precision), "recall": float(recall)}

    def evaluation(self, truth: np.ndarray, probs: np.ndarray, labels: list[str], thresholds: dict | None) -> dict:
        predicted = self.predicted(probs, labels, thresholds)
        p, r, f, s = precision_recall_fscore_support(truth > 0.5, predicted, zero_division=0)
        cuts = self.vector(thresholds, labels)
        per_label = [{"label": label, "precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                      "support": int(s[i]), "threshold": float(cuts[i])} for i, label in enumerate(labels)]
        return {"task": self.name, "labels": labels, "scores": self.scores(truth, probs, thresholds, labels),
                "per_class": per_label, "thresholds": thresholds}

    def prediction_rows(self, texts, truth: np.ndarray, probs: np.ndarray, labels: list[str], thresholds: dict | None):
        """``eval_predictions.csv``: the true and predicted sets (``|``-separated) and one score column per label."""
        predicted = self.predicted(probs, labels, thresholds)

        def names(row) -> str:
            return "|".join(label for label, on in zip(labels, row) if on)

        rows = [[text, names(t > 0.5), names(p), *(f"{x:.4f}" for x in score)]
                for text, t, p, score in zip(texts, truth, predicted, probs)]
        return ["text", "true_labels", "predicted_labels", *(f"score_{label}" for label in labels)], rows

    def decode(self, probs: np.ndarray, labels: list[str], thresholds: dict | None = None, top_k: int = 3) -> list[dict]:
        """Per text: the label set (every label at or over its threshold), its scores, and the top-k labels."""
        cuts = self.vector(thresholds, labels)
        k = max(1, min(top_k, len(labels)))
        out = []
        for row in probs:
            order = np.argsort(-row)
            chosen = [labels[i] for i in order if row[i] >= cuts[i]]
            out.append({"labels": chosen, "label": ", ".join(chosen),
                        "confidence": float(row[order[0]]),
                        "scores": {labels[i]: float(row[i]) for i in order},
                        "top_k": [{"label": labels[i], "score": float(row[i]), "threshold": float(cuts[i])}
                                  for i in order[:k]]})
        return out
