"""Likely label errors: the rows whose given label the data itself contradicts.

A ranking by a model, not a verdict. Every row is embedded once with the frozen base
encoder (the quick baseline's features, L2-normalised); a logistic regression then
predicts each row from folds that did not contain it (seeded, stratified k-fold), so no
row vouches for its own label. Rows are ranked by the out-of-fold probability of their
given label (self-confidence: lowest first). A row is *flagged* the way confident
learning does it (Northcutt et al., JAIR 2021): another class gets at least that class's
own threshold (the mean probability its labeled rows receive for it) and more than the
given class, which itself falls below its own threshold.

Multi-label data is the same per label: each label is a yes/no question answered out
of fold, a label given but contradicted is "likely wrong", one not given but predicted
is "likely missing", and a row ranks by its least trusted label.

bench/bench_label_errors.py measured the choices (L2-normalised features, C=2,
self-confidence order) against the plain 5-fold logistic regression on raw features.
Nothing is dropped or changed here; the caller decides, and the user always chooses.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from trainer.intake.label_sets import LabelOptions
from trainer.quality.near_duplicates import near_duplicate_pairs
from trainer.tasks import get_task

FOLDS = 5
C = 2.0  # inverse regularisation on unit-length embeddings (bench: 1, 2, 3, 5 tried; 2 best on average)
MAX_ROWS = 20000  # larger files are sampled (seeded): the ranking then covers the sample, which the report says
SHOWN = 200


@dataclass
class LabelErrors:
    """What a user sees: how many rows look mislabeled, the ranked rows (most suspicious first), and
    near-duplicate texts that carry different labels."""

    flagged: int
    checked: int
    total: int
    rows: list[dict]  # row (1-based, in the file), text, given_label, suggested_label, score, flagged (+ change)
    note: str = ""
    task: str = "single"
    near_duplicates: list[dict] = field(default_factory=list)
    delimiter: str | None = None  # how a multi-label file joins its labels (for the suggested column)

    def to_dict(self, limit: int | None = SHOWN) -> dict:
        data = asdict(self)
        data["rows"] = data["rows"][:limit] if limit else data["rows"]
        return data


def _unit(features: np.ndarray) -> np.ndarray:
    return features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)


def _model():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=2000, C=C)


def _folds(stratify: np.ndarray, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Seeded stratified folds; classes too small to appear in every fold are spread like one pseudo-class."""
    from sklearn.model_selection import StratifiedKFold

    counts = np.bincount(stratify - stratify.min())
    folds = max(2, min(FOLDS, int(counts.max())))
    small = counts[stratify - stratify.min()] < folds
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class")
        return list(StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
                    .split(stratify, np.where(small, -1, stratify)))


def out_of_fold_probabilities(features: np.ndarray, labels: np.ndarray, n_labels: int, seed: int = 0) -> np.ndarray:
    """Class probabilities for every row from a model fitted on the other folds (classes a fold lacks get 0)."""
    features = _unit(features)
    probabilities = np.zeros((len(labels), n_labels))
    for fit_rows, held_out in _folds(labels, seed):
        present = np.unique(labels[fit_rows])
        if len(present) < 2:
            probabilities[held_out, present] = 1.0
            continue
        model = _model().fit(features[fit_rows], labels[fit_rows])
        probabilities[np.ix_(held_out, model.classes_.astype(int))] = model.predict_proba(features[held_out])
    return probabilities


def out_of_fold_label_probabilities(features: np.ndarray, targets: np.ndarray, seed: int = 0) -> np.ndarray:
    """Multi-label: the out-of-fold probability of each label (one binary model per label and fold; a label
    constant in a fold's fitting rows gets that constant)."""
    features = _unit(features)
    present = targets > 0.5
    probabilities = np.zeros(targets.shape)
    for fit_rows, held_out in _folds(present.sum(1).clip(max=3), seed):  # folds balanced by labels per text
        for j in range(targets.shape[1]):
            column = present[fit_rows, j]
            if column.all() or not column.any():
                probabilities[held_out, j] = float(column.all())
                continue
            model = _model().fit(features[fit_rows], column.astype(int))
            probabilities[held_out, j] = model.predict_proba(features[held_out])[:, 1]
    return probabilities


def rank(probabilities: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(order: lowest self-confidence first, suggested class per row, flagged per row)."""
    n_labels = probabilities.shape[1]
    every = np.arange(len(labels))
    given = probabilities[every, labels]
    thresholds = np.array([probabilities[labels == j, j].mean() if (labels == j).any() else 1.0
                           for j in range(n_labels)])
    above = probabilities >= thresholds
    above[every, labels] = False  # only another class can contradict the given one
    candidates = np.where(above, probabilities, -1.0)
    suggested = np.where(above.any(1), candidates.argmax(1), probabilities.argmax(1))
    # ... and the given class falls below its own threshold: the row is atypical of the class it was given.
    flagged = above.any(1) & (probabilities[every, suggested] > given) & (given < thresholds[labels])
    return np.argsort(given, kind="stable"), suggested, flagged


def rank_label_sets(probabilities: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Multi-label (order: least trusted label first, suspicious[row, label], self-confidence[row, label]):
    each label is ranked as its own yes/no question; ``suspicious`` marks the given values it contradicts."""
    present = (targets > 0.5).astype(int)
    suspicious = np.zeros(targets.shape, dtype=bool)
    for j in range(targets.shape[1]):
        pair = np.stack([1.0 - probabilities[:, j], probabilities[:, j]], axis=1)
        _, _, suspicious[:, j] = rank(pair, present[:, j])
    confidence = np.where(present == 1, probabilities, 1.0 - probabilities)
    return np.argsort(confidence.min(1), kind="stable"), suspicious, confidence


def _single_rows(frame: pd.DataFrame, names: list[str], features: np.ndarray, seed: int) -> list[dict]:
    labels = frame["label"].to_numpy().astype(int)
    probabilities = out_of_fold_probabilities(features, labels, len(names), seed)
    order, suggested, flagged = rank(probabilities, labels)
    given = probabilities[np.arange(len(labels)), labels]
    return [{"row": int(frame["row"].iloc[i]), "text": str(frame["text"].iloc[i]),
             "given_label": names[labels[i]], "suggested_label": names[suggested[i]],
             "score": round(float(1.0 - given[i]), 4), "flagged": bool(flagged[i])} for i in order]


def _multi_rows(frame: pd.DataFrame, names: list[str], features: np.ndarray, seed: int) -> list[dict]:
    targets = get_task("multi").targets(frame, len(names))
    probabilities = out_of_fold_label_probabilities(features, targets, seed)
    order, suspicious, confidence = rank_label_sets(probabilities, targets)
    rows = []
    for i in order:
        given = [names[j] for j in np.flatnonzero(targets[i] > 0.5)]
        wrong = [names[j] for j in np.flatnonzero(suspicious[i] & (targets[i] > 0.5))]
        missing = [names[j] for j in np.flatnonzero(suspicious[i] & (targets[i] <= 0.5))]
        # A text keeps at least one label: with all its own contradicted, the model's most likely label instead.
        suggested = [n for n in given if n not in wrong] + missing or [names[int(probabilities[i].argmax())]]
        change = "; ".join([f"likely missing: {', '.join(missing)}"] * bool(missing)
                           + [f"likely wrong: {', '.join(wrong)}"] * bool(wrong))
        rows.append({"row": int(frame["row"].iloc[i]), "text": str(frame["text"].iloc[i]),
                     "given_label": ", ".join(given) or "(none)", "suggested_label": ", ".join(suggested) or "(none)",
                     "score": round(float(1.0 - confidence[i].min()), 4), "flagged": bool(suspicious[i].any()),
                     "change": change, "given_labels": given, "suggested_labels": suggested})
    return rows


def find_label_errors(frame: pd.DataFrame, label_names: list[str], features: np.ndarray, total: int,
                      task: str = "single", seed: int = 0, delimiter: str | None = None) -> LabelErrors:
    """``frame``: the rows checked (``row``, ``text``, ``label``: a class id, or a tuple of ids for multi-label),
    aligned with ``features``; ``total``: usable rows in the file (more than ``len(frame)`` when sampled)."""
    rows = (_multi_rows if task == "multi" else _single_rows)(frame, label_names, features, seed)
    given = {r["row"]: r["given_label"] for r in rows}
    result = LabelErrors(flagged=sum(r["flagged"] for r in rows), checked=len(frame), total=total, rows=rows,
                         task=task, delimiter=delimiter,
                         near_duplicates=near_duplicate_pairs(frame["row"].to_numpy(), frame["text"].tolist(),
                                                              [given[int(r)] for r in frame["row"]], features))
    result.note = describe(result)
    return result


def label_errors_in_file(path: str, text_column: str | None = None, label_column: str | None = None,
                         model: str | None = None, limits=None, labels: LabelOptions | None = None) -> LabelErrors:
    """Read and clean the file as training would (``labels``: forced task, delimiter, columns), embed every
    usable row once, rank them."""
    from trainer.training.baseline import embed, load_encoder
    from trainer.intake.data import load_dataset_file

    labels = labels or LabelOptions()
    intake = load_dataset_file(path, text_column=text_column or None, label_column=label_column or None, model=model,
                               limits=limits, task=labels.task, label_delimiter=labels.delimiter,
                               label_columns=labels.columns)
    rows = pd.concat([part for part in (intake.train, intake.validation, intake.test) if part is not None])
    checked = sample(rows.sort_values("row"))
    tokenizer, encoder = load_encoder(model)
    features = embed(checked["text"].tolist(), encoder, tokenizer, intake.report.length["suggested_max_length"])
    delimiter = (intake.report.label_format or {}).get("delimiter")
    return find_label_errors(checked, intake.labels, features, total=len(rows), task=intake.task, delimiter=delimiter)


def sample(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """At most MAX_ROWS rows, stratified by label (by label set for multi-label data), seeded."""
    if len(frame) <= MAX_ROWS:
        return frame
    share = MAX_ROWS / len(frame)
    keys = frame["label"].map(str)
    parts = [group.sample(n=max(1, int(round(len(group) * share))), random_state=seed)
             for _, group in frame.groupby(keys)]
    return pd.concat(parts).sort_values("row").head(MAX_ROWS)


def describe(result: LabelErrors) -> str:
    """The plain-words note shown with the ranking."""
    sampled = (f" (a seeded sample of {result.checked:,} of the file's {result.total:,} usable rows)"
               if result.checked < result.total else "")
    what = "have a label that looks wrong or missing" if result.task == "multi" else "look mislabeled"
    pairs = (f" {len(result.near_duplicates):,} pairs of near-identical texts carry different labels."
             if result.near_duplicates else "")
    share = result.flagged / max(1, result.checked)
    noisy = (f" That is {share:.0%} of the rows: on data like this (emotions, emoji, sarcasm, overlapping classes) "
             f"most flags mean \"hard to tell\", not \"wrong\". Review the top of the list and download the "
             f"suggestions; dropping every flagged row would also drop good, hard examples."
             if share >= HIGH_SHARE else "")
    return (f"About {result.flagged:,} of {result.checked:,} rows {what}{sampled}.{pairs}{noisy} This is a ranking "
            f"of suspicious rows by a model (a logistic regression on frozen embeddings, {FOLDS}-fold, each row "
            f"predicted by folds that did not see it), not a verdict: check them, then keep, relabel or drop them "
            f"yourself. Nothing was changed.")


def drop_effect(result: LabelErrors) -> list[dict]:
    """Per label, most frequent first: the checked rows that carry it now, and after dropping every flagged row."""
    before, after = {}, {}
    for r in result.rows:
        for label in r.get("given_labels") or [r["given_label"]]:
            before[label] = before.get(label, 0) + 1
            after[label] = after.get(label, 0) + (not r["flagged"])
    return [{"label": label, "rows now": before[label], "after dropping": after[label]}
            for label in sorted(before, key=lambda k: -before[k])]


def corrected_file(original: pd.DataFrame, result: LabelErrors, mode: str) -> pd.DataFrame:
    """The original table with a ``suggested_label`` column (``mode="suggest"``; empty where nothing is flagged)
    or without the flagged rows (``mode="drop"``). Row numbers are 1-based positions in the original table.
    A multi-label suggestion is written as the file writes its labels: a list where cells hold lists (JSON Lines,
    Parquet), else joined by the file's delimiter."""
    flagged = {r["row"]: r for r in result.rows if r["flagged"]}
    positions = np.arange(1, len(original) + 1)
    if mode == "drop":
        return original[~np.isin(positions, list(flagged))].reset_index(drop=True)
    holds_lists = original.map(lambda v: isinstance(v, (list, tuple, np.ndarray))).to_numpy().any()

    def suggestion(row: dict | None):
        if row is None:
            return [] if holds_lists and result.task == "multi" else ""
        if result.task != "multi":
            return row["suggested_label"]
        return list(row["suggested_labels"]) if holds_lists else (result.delimiter or ",").join(row["suggested_labels"])

    out = original.copy()
    out["suggested_label"] = [suggestion(flagged.get(int(p))) for p in positions]
    return out


HIGH_SHARE = 0.2  # above this share of flagged rows the note says most flags are likely hard cases
POSSIBLE_LABEL_ERROR, MODEL_ERROR = "possible label error", "model error"


def with_verdicts(header: list[str], rows: list[list], baseline_rows: list[list]) -> tuple[list[str], list[list]]:
    """``eval_predictions.csv`` rows (text, true, predicted, ...) with the quick baseline's prediction and, where
    the fine-tuned model contradicts the given label, a verdict: two different models agreeing against the label
    make a *possible label error*; the fine-tuned model alone, a *model error*."""
    out = [[*row, base[2], "" if row[2] == row[1] else POSSIBLE_LABEL_ERROR if base[2] == row[2] else MODEL_ERROR]
           for row, base in zip(rows, baseline_rows)]
    return [*header, "baseline_prediction", "verdict"], out
