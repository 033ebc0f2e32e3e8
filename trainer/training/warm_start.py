"""Warm start: one pass of the untrained model over the data gives the quick baseline *and* the head's start.

A classification head initialised at random needs many steps before the encoder's
gradients mean anything, and on a few hundred rows those steps are not there: the
fine-tuned model then ends below a logistic regression on frozen embeddings. So, as in
LP-FT (linear probe, then fine-tune; Kumar et al., ICLR 2022), the head starts as a
logistic regression fitted on the frozen features it actually receives (BERT: the
pooled [CLS]; RoBERTa: the output of its dense layer; ...). The same forward pass also
gives the mean-pooled embeddings the quick baseline is fitted on, so both cost one pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from trainer.training.baseline import Baseline, masked_mean
from trainer.training.batching import sorted_batches

BASELINE_SAMPLE = 20000  # rows the logistic regressions are fitted on; more adds time, not accuracy



def head_layer(model, n_labels: int) -> tuple[str, torch.nn.Linear] | None:
    """The final linear layer that produces the logits (``classifier``, ``classifier.out_proj``, ``score`` ...)."""
    found = [(name, module) for name, module in model.named_modules()
             if isinstance(module, torch.nn.Linear) and module.out_features == n_labels]
    return found[-1] if found else None


@torch.inference_mode()
def frozen_features(model, tokenizer, texts: list[str], max_length: int, head: torch.nn.Linear | None = None,
                    batch_size: int = 128, pooling_layer: torch.nn.Module | None = None
                    ) -> tuple[np.ndarray, np.ndarray | None]:
    """(mean-pooled encoder output, inputs of ``head`` or None), in the caller's order, length-sorted batches.

    With an added mean-pooling layer (mean_pooling.py) the encoder's output is that layer's input. A head that
    reads every token (decoders score each token and keep the last real one afterwards) gives None: a probe on a
    fixed position would start it wrong.
    """
    captured = {}
    hooks = [head.register_forward_hook(lambda module, args, output: captured.__setitem__("x", args[0]))] if head else []
    if pooling_layer is not None:
        hooks.append(pooling_layer.register_forward_pre_hook(
            lambda module, args: captured.__setitem__("hidden", args[0])))
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    mean = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    head_in = {"x": np.zeros((len(texts), head.in_features), dtype=np.float32) if head else None}

    def step(index: np.ndarray) -> None:
        batch = tokenizer([texts[i] for i in index], truncation=True, max_length=max_length, padding=True,
                          return_tensors="pt").to(device)
        output = model(**batch, output_hidden_states=pooling_layer is None)
        hidden = captured["hidden"] if pooling_layer is not None else output.hidden_states[-1]
        mean[index] = masked_mean(hidden, batch["attention_mask"])
        if head_in["x"] is not None and captured["x"].dim() == 3:  # a head that reads every token: no probe
            head_in["x"] = None
        elif head_in["x"] is not None:
            head_in["x"][index] = captured["x"].float().cpu().numpy()

    try:
        sorted_batches(texts, batch_size, step)  # halves its batch by itself when out of memory
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    return mean, head_in["x"]


@dataclass
class WarmStart:
    """The quick baseline and its probabilities on the validation rows (the head, if asked, now starts from a
    linear probe); the run's task scores them and tunes the baseline's thresholds. The training rows it was
    fitted on (positions in the training frame) and their embeddings are kept for the label check."""

    baseline: Baseline
    validation_probabilities: np.ndarray
    train_rows: np.ndarray
    train_features: np.ndarray


def _sample(targets: np.ndarray, seed: int) -> np.ndarray:
    """Up to BASELINE_SAMPLE rows, stratified for class ids: every class keeps its share, and at least its first
    20 rows. Label sets (a 2-D target) are sampled at random; the sample is 20,000 rows, so rare labels keep
    their share in expectation."""
    rng = np.random.default_rng(seed)
    if len(targets) <= BASELINE_SAMPLE:
        return rng.permutation(len(targets))
    if targets.ndim == 2:
        return rng.permutation(len(targets))[:BASELINE_SAMPLE]
    fraction = BASELINE_SAMPLE / len(targets)
    parts = []
    for label in np.unique(targets):
        rows = rng.permutation(np.flatnonzero(targets == label))
        parts.append(rows[:max(min(len(rows), 20), int(round(len(rows) * fraction)))])
    return rng.permutation(np.concatenate(parts))


def warm_start(model, tokenizer, train_texts: list[str], train_targets: np.ndarray, val_texts: list[str],
               n_labels: int, max_length: int, balanced: bool, init_head: bool, seed: int = 0,
               pooling_layer: torch.nn.Module | None = None, task: str = "single") -> WarmStart:
    """Fit the baseline on mean-pooled features and (``init_head``) copy a linear probe into the head layer."""
    sample = _sample(np.asarray(train_targets), seed)
    texts = [train_texts[i] for i in sample] + list(val_texts)
    found = head_layer(model, n_labels) if init_head else None
    head = found[1] if found else None
    mean, head_in = frozen_features(model, tokenizer, texts, max_length, head, pooling_layer=pooling_layer)
    n, targets = len(sample), train_targets[sample]
    baseline = Baseline.fit(mean[:n], targets, n_labels, balanced, max_length, task)
    if head_in is not None:
        _load_probe(head, Baseline.fit(head_in[:n], targets, n_labels, balanced, max_length, task))
    return WarmStart(baseline=baseline, validation_probabilities=baseline.probabilities(mean[n:]), train_rows=sample,
                     train_features=mean[:n])


def _load_probe(head: torch.nn.Linear, probe: Baseline) -> None:
    with torch.no_grad():
        head.weight.copy_(torch.as_tensor(probe.coef, dtype=head.weight.dtype))
        if head.bias is not None:  # classes absent from train keep a very negative bias, not -1e4 (fp16)
            head.bias.copy_(torch.as_tensor(np.maximum(probe.intercept, -20.0), dtype=head.bias.dtype))


def refit_head(model, tokenizer, train_texts: list[str], train_targets: np.ndarray, n_labels: int, max_length: int,
               balanced: bool, seed: int = 0, pooling_layer: torch.nn.Module | None = None,
               task: str = "single") -> bool:
    """Fit the head afresh as a logistic regression on the features it receives from the (tuned) encoder, as
    SetFit fits its head; False when the head reads every token (no fixed position to probe)."""
    found = head_layer(model, n_labels)
    if found is None:
        return False
    sample = _sample(np.asarray(train_targets), seed)
    _, head_in = frozen_features(model, tokenizer, [train_texts[i] for i in sample], max_length, found[1],
                                 pooling_layer=pooling_layer)
    if head_in is None:
        return False
    _load_probe(found[1], Baseline.fit(head_in, train_targets[sample], n_labels, balanced, max_length, task))
    return True
