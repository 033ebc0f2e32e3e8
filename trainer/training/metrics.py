"""Classification metrics, all from scikit-learn, in the shape run files and charts use."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support


def scores(y_true, y_pred) -> dict:
    """Accuracy, macro / weighted F1, macro precision and recall."""
    precision, recall, macro_f1, _ = precision_recall_fscore_support(y_true, y_pred, average="macro", zero_division=0)
    return {"accuracy": float(accuracy_score(y_true, y_pred)), "macro_f1": float(macro_f1),
            "weighted_f1": float(f1_score(y_true, y_pred, average="weighted", zero_division=0)),
            "precision": float(precision), "recall": float(recall)}


def per_class(y_true, y_pred, labels: list[str]) -> list[dict]:
    ids = list(range(len(labels)))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=ids, zero_division=0)
    return [{"label": labels[i], "precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
            for i in ids]


def confusion(y_true, y_pred, n_labels: int) -> list[list[int]]:
    return confusion_matrix(y_true, y_pred, labels=list(range(n_labels))).tolist()


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)
