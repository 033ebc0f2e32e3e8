"""A classifier that reads the mean of its encoder's token vectors: the setfit method's model for bodies that
no stock transformers classifier can read by their mean.

A mean-pooling sentence encoder (all-mpnet-base-v2, gte, e5, ...) carries a text's meaning in
the mean of its token vectors, and SetFit trains it on that mean. For BERT bodies,
mean_pooling.py builds the mean into a stock BERT classifier. Other architectures have no stock
layer that computes it (MPNet adds a learned relative-position bias to every attention score,
so a zero-query layer is not a uniform mean), and their stock classification heads read the
first token, which such a body never trained: a setfit run on all-mpnet-base-v2 that exported
to ``MPNetForSequenceClassification`` scored 0.795 on SST-2 with 8 rows per class, where SetFit
on the same body scores 0.870. Such a run's ``model/`` is therefore a SetFit model
(setfit_format.py): the tuned encoder, mean pooling and the logistic-regression head, which
``SetFitModel.from_pretrained`` loads in one line and ClassiTune loads as ``MeanPooledClassifier``
(with ``classifier_head.json``, the head's JSON copy, instead of the pickle).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from trainer.training.baseline import Baseline
from trainer.training.mean_pooling import trained_for_mean_pooling
from trainer.training.setfit_format import write_setfit_files

HEAD_FILE = "classifier_head.json"


def reads_mean_as_setfit(config, model_path: str, pooling_layer) -> bool:
    """Whether a setfit run trains the mean and saves this module's format: a mean-pooling body (or
    ``pooling=mean``) that got no mean-pooling layer because it is not a BERT."""
    if config.method != "setfit" or pooling_layer is not None or config.pooling == "cls":
        return False
    return config.pooling == "mean" or trained_for_mean_pooling(model_path)


def is_sentence_classifier(folder: Path) -> bool:
    return (Path(folder) / HEAD_FILE).is_file()


class MeanPooledClassifier(torch.nn.Module):
    """Encoder, masked mean, linear head; shaped like a sequence classifier where the run reads one (``config``
    with the labels, ``forward`` returning ``logits``), so evaluation and Predict treat it as any model."""

    def __init__(self, encoder, head: Baseline, labels: list[str]):
        super().__init__()
        self.encoder, self.head, self.labels = encoder, head, labels
        self.register_buffer("coef", torch.tensor(head.coef, dtype=torch.float32))
        self.register_buffer("intercept", torch.tensor(head.intercept, dtype=torch.float32))
        positions = getattr(encoder.config, "max_position_embeddings", None)
        self.config = SimpleNamespace(num_labels=len(labels), id2label=dict(enumerate(labels)),
                                      problem_type="single_label_classification", label_thresholds=None,
                                      model_type=encoder.config.model_type, max_position_embeddings=positions,
                                      pad_token_id=getattr(encoder.config, "pad_token_id", None))

    def forward(self, input_ids=None, attention_mask=None, **_):
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # baseline.masked_mean, in torch
        return SimpleNamespace(logits=pooled.float() @ self.coef.T + self.intercept)

    def save(self, folder: Path, tokenizer) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.encoder.save_pretrained(folder, safe_serialization=True)
        tokenizer.save_pretrained(folder)
        write_setfit_files(folder, self.head, self.labels, int(self.head.coef.shape[1]))
        self.head.save(folder / HEAD_FILE)

    @classmethod
    def load(cls, folder: Path) -> "MeanPooledClassifier":
        from transformers import AutoModel

        encoder = AutoModel.from_pretrained(folder, trust_remote_code=False, use_safetensors=True)
        labels = json.loads((Path(folder) / "config_setfit.json").read_text())["labels"]
        return cls(encoder, Baseline.load(Path(folder) / HEAD_FILE), labels).eval()


def fit_head(encoder, tokenizer, texts: list[str], targets: np.ndarray, labels: list[str], max_length: int,
             balanced: bool, device: str) -> MeanPooledClassifier:
    """SetFit's second step: a logistic regression on the tuned encoder's mean embeddings of the training rows."""
    from trainer.training.baseline import embed

    encoder.eval()
    features = embed(texts, encoder, tokenizer, max_length, device=device)
    head = Baseline.fit(features, targets, len(labels), balanced, max_length, "single")
    return MeanPooledClassifier(encoder, head, labels).to(device)

