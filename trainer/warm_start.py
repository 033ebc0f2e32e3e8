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

from .baseline import Baseline
from .metrics import scores

BASELINE_SAMPLE = 20000  # rows the logistic regressions are fitted on; more adds time, not accuracy


def head_layer(model, n_labels: int) -> tuple[str, torch.nn.Linear]:
    """The final linear layer that produces the logits (``classifier``, ``classifier.out_proj``, ``score`` ...)."""
    found = [(name, module) for name, module in model.named_modules()
             if isinstance(module, torch.nn.Linear) and module.out_features == n_labels]
    if not found:
        raise ValueError("no linear output layer with one output per label")
    return found[-1]


@torch.inference_mode()
def frozen_features(model, tokenizer, texts: list[str], max_length: int, n_labels: int, batch_size: int = 128,
                    pooling_layer: torch.nn.Module | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(mean-pooled encoder output, inputs of the head layer), in the caller's order, length-sorted batches.

    With an added mean-pooling layer (mean_pooling.py) the encoder's output is that layer's input.
    """
    _, head = head_layer(model, n_labels)
    captured = {}
    hooks = [head.register_forward_hook(lambda module, args, output: captured.__setitem__("x", args[0]))]
    if pooling_layer is not None:
        hooks.append(pooling_layer.register_forward_pre_hook(
            lambda module, args: captured.__setitem__("hidden", args[0])))
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    order = np.argsort([len(t) for t in texts], kind="stable")
    mean = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    head_in = np.zeros((len(texts), head.in_features), dtype=np.float32)
    try:
        for start in range(0, len(texts), batch_size):
            index = order[start:start + batch_size]
            batch = tokenizer([texts[i] for i in index], truncation=True, max_length=max_length, padding=True,
                              return_tensors="pt").to(device)
            output = model(**batch, output_hidden_states=pooling_layer is None)
            hidden = (captured["hidden"] if pooling_layer is not None else output.hidden_states[-1]).float()
            mask = batch["attention_mask"].unsqueeze(-1).float()
            mean[index] = ((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).cpu().numpy()
            x = captured["x"].float()
            head_in[index] = (x[:, 0] if x.dim() == 3 else x).cpu().numpy()  # a per-token head reads the first token
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    return mean, head_in


@dataclass
class WarmStart:
    """The quick baseline (fitted and scored) and the linear probe the head starts from."""

    baseline: Baseline
    baseline_scores: dict
    baseline_predictions: np.ndarray  # on the validation rows, for its per-class scores and confusion matrix
    probe_scores: dict


def warm_start(model, tokenizer, train_texts: list[str], train_labels: np.ndarray, val_texts: list[str],
               val_labels: np.ndarray, n_labels: int, max_length: int, balanced: bool, init_head: bool,
               seed: int = 0, pooling_layer: torch.nn.Module | None = None) -> WarmStart:
    """Fit the baseline on mean-pooled features and (``init_head``) copy a linear probe into the head layer."""
    rng = np.random.default_rng(seed)
    sample = rng.permutation(len(train_texts))[:BASELINE_SAMPLE]
    texts = [train_texts[i] for i in sample] + list(val_texts)
    mean, head_in = frozen_features(model, tokenizer, texts, max_length, n_labels, pooling_layer=pooling_layer)
    n, labels = len(sample), train_labels[sample]
    baseline = Baseline.fit(mean[:n], labels, n_labels, balanced, max_length)
    probe = Baseline.fit(head_in[:n], labels, n_labels, balanced, max_length)
    if init_head:
        _, head = head_layer(model, n_labels)
        with torch.no_grad():
            head.weight.copy_(torch.as_tensor(probe.coef, dtype=head.weight.dtype))
            if head.bias is not None:  # classes absent from train keep a very negative bias, not -1e4 (fp16)
                head.bias.copy_(torch.as_tensor(np.maximum(probe.intercept, -20.0), dtype=head.bias.dtype))
    predictions = baseline.probabilities(mean[n:]).argmax(-1)
    return WarmStart(baseline=baseline, baseline_scores=scores(val_labels, predictions),
                     baseline_predictions=predictions, probe_scores=probe.evaluate(head_in[n:], val_labels))
