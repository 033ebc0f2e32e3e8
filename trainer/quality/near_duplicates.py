"""Near-duplicate texts that carry different labels, found with the embeddings the label check already has.

Exact copies with conflicting labels are in the validation report; this finds the ones
a person wrote twice a little differently ("I lost my card" / "i lost my card!!"), where
one of the two labels is likely wrong. Two texts are near-duplicates when the cosine
similarity of their mean-pooled embeddings is at least ``SIMILARITY``: with the default
model that keeps rephrasings of one sentence and drops texts that merely share a topic
(read on pairs from Banking77, TREC, SST-2 and climate tweets: down to 0.90 they are still
rephrasings of one text, often of one intent labeled two ways).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SIMILARITY = 0.92
LIMIT = 200  # pairs kept, most similar first
BLOCK = 1024  # rows compared at once: memory stays BLOCK x rows floats


def near_duplicate_pairs(rows: np.ndarray, texts: list[str], labels: list[str], features: np.ndarray,
                         threshold: float = SIMILARITY, limit: int = LIMIT) -> list[dict]:
    """Pairs (row numbers as given, texts, labels, similarity) of texts at least ``threshold`` alike whose labels
    differ, most similar first."""
    unit = (features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)).astype(np.float32)
    codes, _ = pd.factorize(pd.Series(labels, dtype=object))
    found: list[tuple[float, int, int]] = []
    for start in range(0, len(unit), BLOCK):
        similarity = unit[start:start + BLOCK] @ unit.T
        first, second = np.nonzero(similarity >= threshold)
        first = first + start
        keep = (second > first) & (codes[first] != codes[second])
        found += [(float(similarity[i - start, j]), int(i), int(j)) for i, j in zip(first[keep], second[keep])]
        if len(found) > 4 * limit:  # bound memory on data made of copies; the most similar are kept
            found = sorted(found, reverse=True)[:limit]
    return [{"row": int(rows[i]), "other_row": int(rows[j]), "text": texts[i], "other_text": texts[j],
             "label": labels[i], "other_label": labels[j], "similarity": round(min(s, 1.0), 4)}
            for s, i, j in sorted(found, key=lambda f: (-f[0], f[1], f[2]))[:limit]]
