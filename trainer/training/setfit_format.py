"""The SetFit folder format: a sentence-transformers body, mean pooling and a scikit-learn head.

Two kinds of model are written in it: a run's quick baseline (the frozen base encoder and
its logistic regression), published when it is the better model, and the ``model/`` of a
setfit run on a mean-pooling body that no stock classifier can read by its mean
(sentence_classifier.py). Both load with ``SetFitModel.from_pretrained(path)`` in one line,
and the Hub shows them with a widget. The folder holds ``modules.json`` (Transformer + mean
Pooling, no Normalize: the heads were fitted on unnormalised embeddings), ``config_setfit.json``
with the labels, and ``model_head.pkl``, a ``LogisticRegression`` holding the head's weights
(written with joblib, as SetFit itself does; like every SetFit head it is a pickle, so it is
written here but never loaded by ClassiTune, which keeps a JSON copy).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from trainer.training.baseline import Baseline


def _binary(coef: np.ndarray, intercept: float):
    """A fitted-looking binary ``LogisticRegression``: sigmoid(coef . x + intercept)."""
    from sklearn.linear_model import LogisticRegression

    head = LogisticRegression()
    head.coef_, head.intercept_, head.classes_ = coef[None, :], np.array([intercept]), np.arange(2)
    head.n_features_in_, head.n_iter_ = coef.shape[0], np.array([0])
    return head


def one_vs_rest_head(baseline: Baseline):
    """Multi-label: SetFit's one-vs-rest head (what ``multi_target_strategy="one-vs-rest"`` trains), one binary
    logistic regression per label, whose ``predict_proba`` equals the baseline's sigmoid scores."""
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import LabelBinarizer

    n_labels, dim = baseline.coef.shape
    head = OneVsRestClassifier(_binary(baseline.coef[0], 0.0))
    head.estimators_ = [_binary(baseline.coef[i], float(baseline.intercept[i])) for i in range(n_labels)]
    head.label_binarizer_ = LabelBinarizer(sparse_output=True).fit(np.eye(n_labels, dtype=int))
    head.n_features_in_ = dim
    return head


def sklearn_head(baseline: Baseline):
    """A fitted-looking ``LogisticRegression`` whose ``predict_proba`` equals the baseline's probabilities."""
    from sklearn.linear_model import LogisticRegression

    if baseline.task == "multi":
        return one_vs_rest_head(baseline)
    n_labels, dim = baseline.coef.shape
    if n_labels == 2:  # sklearn's binary form: one row, sigmoid of (w1 - w0) x + (b1 - b0) == softmax of the two rows
        return _binary(baseline.coef[1] - baseline.coef[0], float(baseline.intercept[1] - baseline.intercept[0]))
    head = LogisticRegression()
    head.coef_, head.intercept_ = baseline.coef.copy(), baseline.intercept.copy()
    head.classes_, head.n_features_in_, head.n_iter_ = np.arange(n_labels), dim, np.array([0])
    return head


def write_setfit_files(folder: Path, head: Baseline, labels: list[str], dimension: int) -> None:
    """Everything of the SetFit format but the encoder and tokenizer (the caller saves those into ``folder``)."""
    import joblib

    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    (folder / "modules.json").write_text(json.dumps(modules, indent=2))
    (folder / "1_Pooling").mkdir(exist_ok=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": dimension, "pooling_mode_cls_token": False,
         "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
         "pooling_mode_mean_sqrt_len_tokens": False}, indent=2))
    (folder / "sentence_bert_config.json").write_text(json.dumps(
        {"max_seq_length": head.max_length, "do_lower_case": False}, indent=2))
    if head.task == "multi":  # the one-vs-rest head gives a score per label; the tuned thresholds travel beside it
        # (no "multi_target_strategy" key: SetFit passes its own, and the pickled head already is one-vs-rest)
        (folder / "label_thresholds.json").write_text(json.dumps((head.thresholds or {})["per_label"], indent=2))
    (folder / "config_setfit.json").write_text(json.dumps({"labels": labels, "normalize_embeddings": False},
                                                          indent=2))
    joblib.dump(sklearn_head(head), folder / "model_head.pkl")
