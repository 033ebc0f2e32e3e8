"""Likely label errors: the rows whose given label the data itself contradicts.

A ranking by a model, not a verdict. Every row is embedded once with the frozen base
encoder (the quick baseline's features); a logistic regression then predicts each row
from folds that did not contain it (seeded, stratified k-fold), so no row vouches for
its own label. Rows are ranked by the out-of-fold probability of their given label
(self-confidence: lowest first), and a row is *flagged* the way confident learning
does it (Northcutt et al., JAIR 2021): another class gets at least that class's own
threshold (the mean probability its labeled rows receive for it) and more than the given
class, which itself falls below its own threshold. Nothing is dropped or
changed here; the caller decides, and the user always chooses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from .errors import UserError

FOLDS = 5
MAX_ROWS = 20000  # larger files are sampled (seeded): the ranking then covers the sample, which the report says
SHOWN = 200


@dataclass
class LabelErrors:
    """What a user sees: how many rows look mislabeled, and the ranked rows (most suspicious first)."""

    flagged: int
    checked: int
    total: int
    rows: list[dict]  # row (1-based, in the file), text, given_label, suggested_label, score, flagged
    note: str

    def to_dict(self, limit: int | None = SHOWN) -> dict:
        data = asdict(self)
        data["rows"] = data["rows"][:limit] if limit else data["rows"]
        return data


def out_of_fold_probabilities(features: np.ndarray, labels: np.ndarray, n_labels: int, seed: int = 0) -> np.ndarray:
    """Class probabilities for every row from a model fitted on the other folds (classes a fold lacks get 0)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    import warnings

    probabilities = np.zeros((len(labels), n_labels))
    counts = np.bincount(labels, minlength=n_labels)
    folds = max(2, min(FOLDS, int(counts[counts > 0].max())))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    stratify = np.where(counts[labels] >= folds, labels, -1)  # tiny classes are spread like one pseudo-class
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class")
        splits = list(splitter.split(features, stratify))
    for fit_rows, held_out in splits:
        present = np.unique(labels[fit_rows])
        if len(present) < 2:
            probabilities[held_out, present] = 1.0
            continue
        model = LogisticRegression(max_iter=1000, C=1.0).fit(features[fit_rows], labels[fit_rows])
        probabilities[np.ix_(held_out, model.classes_.astype(int))] = model.predict_proba(features[held_out])
    return probabilities


def rank(probabilities: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(order: most suspicious first, suggested class per row, flagged per row)."""
    n_labels = probabilities.shape[1]
    given = probabilities[np.arange(len(labels)), labels]
    thresholds = np.array([probabilities[labels == j, j].mean() if (labels == j).any() else 1.0
                           for j in range(n_labels)])
    above = probabilities >= thresholds
    above[np.arange(len(labels)), labels] = False  # only another class can contradict the given one
    candidates = np.where(above, probabilities, -1.0)
    suggested = np.where(above.any(1), candidates.argmax(1), probabilities.argmax(1))
    # ... and the given class falls below its own threshold: the row is atypical of the class it was given.
    flagged = above.any(1) & (probabilities[np.arange(len(labels)), suggested] > given) & (given < thresholds[labels])
    order = np.lexsort((given, ~flagged))  # flagged rows first, each group by self-confidence, lowest first
    return order, suggested, flagged


def find_label_errors(frame: pd.DataFrame, label_names: list[str], features: np.ndarray, total: int,
                      seed: int = 0) -> LabelErrors:
    """``frame``: the rows checked (``row``, ``text``, ``label``), aligned with ``features``; ``total``: usable rows
    in the file (more than ``len(frame)`` when it was sampled)."""
    labels = frame["label"].to_numpy()
    probabilities = out_of_fold_probabilities(features, labels, len(label_names), seed)
    order, suggested, flagged = rank(probabilities, labels)
    given = probabilities[np.arange(len(labels)), labels]
    rows = [{"row": int(frame["row"].iloc[i]), "text": str(frame["text"].iloc[i]),
             "given_label": label_names[labels[i]], "suggested_label": label_names[suggested[i]],
             "score": round(float(1.0 - given[i]), 4), "flagged": bool(flagged[i])} for i in order]
    result = LabelErrors(flagged=int(flagged.sum()), checked=len(frame), total=total, rows=rows, note="")
    result.note = describe(result)
    return result


def label_errors_in_file(path: str, text_column: str | None = None, label_column: str | None = None,
                         model: str | None = None, limits=None) -> LabelErrors:
    """Read and clean the file as training would, embed every usable row once, rank them."""
    from .baseline import embed, load_encoder
    from .data import load_dataset_file

    intake = load_dataset_file(path, text_column=text_column or None, label_column=label_column or None, model=model,
                               limits=limits)
    if intake.task == "multi":
        raise UserError(f"Finding likely label errors works on single-label data for now; this file holds label "
                        f"sets ({intake.report.label_format.get('why')}). Review its label pairs and rare labels in "
                        f"the report instead.")
    rows = pd.concat([part for part in (intake.train, intake.validation, intake.test) if part is not None])
    checked = sample(rows.sort_values("row"))
    tokenizer, encoder = load_encoder(model)
    features = embed(checked["text"].tolist(), encoder, tokenizer, intake.report.length["suggested_max_length"])
    return find_label_errors(checked, intake.labels, features, total=len(rows))


def sample(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """At most MAX_ROWS rows, stratified by label, seeded."""
    if len(frame) <= MAX_ROWS:
        return frame
    share = MAX_ROWS / len(frame)
    parts = [group.sample(n=max(1, int(round(len(group) * share))), random_state=seed)
             for _, group in frame.groupby("label")]
    return pd.concat(parts).sort_values("row")


def describe(result: LabelErrors) -> str:
    """The plain-words note shown with the ranking."""
    sampled = (f" (a seeded sample of {result.checked:,} of the file's {result.total:,} usable rows)"
               if result.checked < result.total else "")
    return (f"About {result.flagged:,} of {result.checked:,} rows look mislabeled{sampled}. This is a ranking of "
            f"suspicious rows by a model (a logistic regression on frozen embeddings, {FOLDS}-fold, each row predicted "
            f"by folds that did not see it), not a verdict: check them, then keep, relabel or drop them yourself. "
            f"Nothing was changed.")


def corrected_file(original: pd.DataFrame, result: LabelErrors, mode: str) -> pd.DataFrame:
    """The original table with a ``suggested_label`` column (``mode="suggest"``) or without the flagged rows
    (``mode="drop"``). Row numbers are 1-based positions in the original table."""
    flagged = {r["row"]: r["suggested_label"] for r in result.rows if r["flagged"]}
    positions = np.arange(1, len(original) + 1)
    if mode == "drop":
        return original[~np.isin(positions, list(flagged))].reset_index(drop=True)
    out = original.copy()
    out["suggested_label"] = [flagged.get(int(p), "") for p in positions]
    return out
