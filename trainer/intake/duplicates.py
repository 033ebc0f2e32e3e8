"""Copies of a text in a user's file: which rows repeat one, which texts carry conflicting labels, and a split
that never puts one text on both sides. The report lists them (with row numbers, for the one-click fixes in
data_fixes.py)."""

from __future__ import annotations

import pandas as pd

MAX_LISTED = 1000  # conflicting texts listed in the report (their row numbers are all kept)


def shown_label(label) -> str:
    """A label (or a label set) as a person reads it."""
    return ", ".join(label) or "(no label)" if isinstance(label, tuple) else str(label)


def find_duplicates(clean: pd.DataFrame) -> dict:
    """Exact copies of a text, and texts given different labels; with source row numbers, so the Data tab can
    list them and drop them on request (data_fixes.py)."""
    key = clean["text"]
    dup_mask = key.duplicated(keep="first")
    conflicts = []
    copies = clean[key.duplicated(keep=False)]
    for text, group in copies.groupby("text", sort=False):
        labels = sorted({shown_label(label) for label in group["label_name"]})
        if len(labels) > 1:
            conflicts.append({"text": text, "labels": labels, "rows": group["row"].astype(int).tolist()})
    return {"duplicate_texts": int(dup_mask.sum()), "duplicate_rows": clean["row"][dup_mask].astype(int).tolist(),
            "conflicting_labels": len(conflicts), "conflict_rows": sorted(r for c in conflicts for r in c["rows"]),
            "conflicts": conflicts[:MAX_LISTED]}


def split_keeping_copies_together(split, clean: pd.DataFrame, fraction: float, seed: int):
    """The app's own split never puts one text in both splits: a validation row whose text is also in train
    measures memory, not generalisation, so such rows go to train (unless that would empty validation)."""
    train, validation, too_small = split(clean, fraction, seed)
    seen = validation["text"].isin(set(train["text"]))
    if seen.any() and not seen.all():
        train, validation = pd.concat([train, validation[seen]]).sort_index(), validation[~seen]
    return train, validation, too_small
