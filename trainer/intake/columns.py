"""Which column is the text and which the label(s), and how one label cell is normalised."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from trainer.errors import UserError

MAX_CLASSES = 1000
LABEL_NAMES = ("label", "labels", "class", "classes", "category", "categories", "sentiment", "target",
               "intent", "y", "tag", "topic", "emotion", "polarity", "stance", "intent_label", "class_label")
MISSING_LABELS = {"", "nan", "none", "null", "na", "n/a"}

def as_label(value) -> str | None:
    """Normalise one label cell: strings stripped, 1 / 1.0 / "1" alike, booleans as true / false."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() else str(value)
    text = str(value).strip()
    if text.lower() in MISSING_LABELS:
        return None
    if re.fullmatch(r"[+-]?\d+\.0+", text):
        return text.split(".")[0]
    if text.lower() in ("true", "false"):
        return text.lower()
    return text


def as_text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def label_order(labels: set[str]) -> list[str]:
    """Integers in numeric order, everything else alphabetically: stable whatever the row order."""
    if all(re.fullmatch(r"[+-]?\d+", label) for label in labels):
        return sorted(labels, key=int)
    return sorted(labels, key=lambda s: (s.lower(), s))


def _mean_length(series: pd.Series) -> float:
    sample = series.head(5000).astype(object)  # a categorical column (Parquet) maps to a categorical otherwise
    if not (sample.map(lambda v: isinstance(v, str))).mean() > 0.9:
        return 0.0
    return float(sample.astype(str).str.len().mean())


def detect_columns(df: pd.DataFrame) -> tuple[str | None, str | None, dict]:
    """Guess (text column, label column) and say why, for the report."""
    columns = list(df.columns)
    why: dict[str, str] = {}
    lowered = {c.lower(): c for c in columns}
    label = next((lowered[n] for n in LABEL_NAMES if n in lowered), None)
    if label:
        why["label"] = f"named {label!r}"
    candidates = [c for c in columns if c != label and c.lower() != "split"]
    lengths = {c: _mean_length(df[c]) for c in candidates}
    text_candidates = [c for c in candidates if lengths[c] > 0]
    named_text = next((c for c in text_candidates if c.lower() in ("text", "sentence", "content", "review")), None)
    text = max(text_candidates, key=lambda c: lengths[c]) if text_candidates else None
    if text and named_text and lengths[named_text] >= 0.5 * lengths[text]:
        text = named_text
    if text:
        why["text"] = f"longest texts (mean {lengths[text]:.0f} characters)"
    if label is None:
        best = None
        for c in columns:
            if c == text or c.lower() == "split":
                continue
            distinct = df[c].map(as_label).nunique(dropna=True)
            if 2 <= distinct <= MAX_CLASSES and distinct <= max(2, 0.5 * len(df)):
                if best is None or distinct < best[1]:
                    best = (c, distinct)
        if best:
            label = best[0]
            why["label"] = f"fewest distinct values ({best[1]})"
    return text, label, why


def check_column(df: pd.DataFrame, name: str, role: str, file_name: str) -> str:
    if name in df.columns:
        return name
    matches = [c for c in df.columns if c.lower() == name.strip().lower()]
    if matches:
        return matches[0]
    raise UserError(f"{role.capitalize()} column {name!r} was not found in {file_name!r}. "
                    f"Its columns are: {', '.join(map(repr, df.columns))}.")

