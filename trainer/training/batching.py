"""Length-sorted forward passes that back off by themselves when a batch does not fit in memory.

The quick baseline, the label check, evaluations and Predict run frozen passes in large batches (64 to 128
texts). A user's batch-size setting cannot help when one of them runs out of GPU memory, so these passes
halve their own batch and retry the same texts, down to one text at a time, before giving up.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from trainer.training import cancel


def out_of_memory(exc: BaseException) -> bool:
    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc).lower()


def sorted_batches(texts: list[str], batch_size: int, step: Callable[[np.ndarray], None]) -> None:
    """Call ``step(index)`` for consecutive slices of the texts' indices sorted by length (little padding);
    a slice that runs out of memory is retried at half the batch size."""
    order = np.argsort([len(t) for t in texts], kind="stable")
    start = 0
    while start < len(order):
        index = order[start:start + batch_size]
        cancel.check()  # between batches: nothing is half-written
        try:
            step(index)
        except RuntimeError as exc:  # torch.cuda.OutOfMemoryError is a RuntimeError
            if batch_size == 1 or not out_of_memory(exc):
                raise
            batch_size = max(1, batch_size // 2)
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            continue
        start += len(index)
