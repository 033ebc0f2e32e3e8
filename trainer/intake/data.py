"""Dataset intake: read what people really have, explain everything else.

``load_dataset_file`` reads a file (reading.py), finds the text and label columns
(columns.py) and how labels are held, one per row or a set per row (label_sets.py),
drops unusable rows, splits train / validation and returns the prepared splits with a
report. Every problem a user can fix raises ``UserError`` with a message that names the
column, row or line and says what to do.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from trainer.intake import label_sets
from trainer.intake.columns import MAX_CLASSES, as_label, as_text, check_column, detect_columns, label_order
from trainer.intake.duplicates import find_duplicates, split_keeping_copies_together
from trainer.errors import UserError
from trainer.intake.data_warnings import EXAMPLES_SHOWN, data_warnings, plural
from trainer.intake.label_sets import LabelFormat
from trainer.intake.reading import IntakeLimits, read_table

__all__ = ["Intake", "IntakeLimits", "Report", "detect_columns", "length_stats", "load_dataset_file", "read_table"]

SPLIT_NAMES = {"train": "train", "training": "train", "validation": "validation", "valid": "validation",
               "val": "validation", "dev": "validation", "eval": "validation", "test": "test"}


@dataclass
class Report:
    """The validation report a user sees before anything trains (JSON-serialisable)."""

    file: dict
    text_column: str
    label_column: str
    detected: dict
    labels: list[str]
    rows_total: int
    rows_used: int
    split_source: str
    split_sizes: dict
    class_counts: dict
    dropped_rows: dict
    duplicates: dict
    leakage: dict
    length: dict | None
    warnings: list[str]
    validation_file: dict | None = None
    task: str = "single"  # "single" | "multi" (label_sets.py)
    label_format: dict = field(default_factory=dict)
    multi_label: dict | None = None  # labels per row, frequent pairs, rare labels (multi-label data only)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Intake:
    """Prepared splits and the report.

    Columns: ``text``, ``label`` (a class id; for multi-label data a list of label ids, possibly empty) and
    ``row`` (the 1-based data row in its file).
    """

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame | None
    labels: list[str]
    report: Report

    @property
    def task(self) -> str:
        return self.report.task

    def save(self, directory: Path) -> None:
        """Write the prepared splits as Parquet, the form a training run reads."""
        directory.mkdir(parents=True, exist_ok=True)
        self.train.to_parquet(directory / "train.parquet", index=False)
        self.validation.to_parquet(directory / "validation.parquet", index=False)
        if self.test is not None and len(self.test):
            self.test.to_parquet(directory / "test.parquet", index=False)


def _labels_of(df: pd.DataFrame, label_col: str | None, fmt: LabelFormat, file_name: str) -> pd.Series:
    """One label name per row (single-label), or a tuple of names per row (multi-label); None where missing."""
    if fmt.task == "multi":
        return label_sets.parse_sets(df, fmt, file_name)
    return df[label_col].map(as_label)


def _clean(df: pd.DataFrame, text_col: str, labels: pd.Series, label_desc: str,
           file_name: str) -> tuple[pd.DataFrame, dict]:
    """Keep rows with text and label; return them (with 1-based source row numbers) and what was dropped."""
    texts = df[text_col].map(as_text)
    rows = np.arange(1, len(df) + 1)
    empty_text = texts == ""
    no_label = labels.isna() & ~empty_text
    dropped = {
        "empty_text": {"count": int(empty_text.sum()), "rows": rows[empty_text.to_numpy()][:EXAMPLES_SHOWN].tolist()},
        "missing_label": {"count": int(no_label.sum()), "rows": rows[no_label.to_numpy()][:EXAMPLES_SHOWN].tolist()},
    }
    keep = ~(empty_text | labels.isna())
    out = pd.DataFrame({"text": texts[keep].to_numpy(), "label_name": labels[keep].to_numpy(),
                        "row": rows[keep.to_numpy()]})
    if len(out) == 0:
        raise UserError(f"No usable rows in {file_name!r}: every row has an empty text in {text_col!r} "
                        f"or a missing label in {label_desc}. Check that you picked the right columns.")
    return out, dropped


def _check_labels(clean: pd.DataFrame, label_col: str, text_col: str) -> None:
    distinct = clean["label_name"].nunique()
    if distinct > MAX_CLASSES:
        raise UserError(f"Label column {label_col!r} has {distinct:,} distinct values; at most {MAX_CLASSES:,} "
                        f"classes are supported. If {label_col!r} is not the label, choose the label column yourself.")
    mean_len = clean["label_name"].str.len().mean()
    if distinct > 50 and (mean_len > 40 or distinct > 0.5 * len(clean)):
        raise UserError(f"Label column {label_col!r} looks like free text ({distinct:,} distinct values, "
                        f"{mean_len:.0f} characters on average), not class names. "
                        f"Pick the column that holds the classes; the text column is {text_col!r}.")
    if distinct < 2:
        only = clean["label_name"].iloc[0]
        raise UserError(f"Label column {label_col!r} has only one class ({only!r}) in the usable rows. "
                        f"A classifier needs examples of at least two classes.")


def _check_label_sets(clean: pd.DataFrame, label_desc: str) -> None:
    names = {n for names in clean["label_name"] for n in names}
    if len(names) > MAX_CLASSES:
        raise UserError(f"{label_desc} hold {len(names):,} distinct labels; at most {MAX_CLASSES:,} are supported.")
    if not names:
        raise UserError(f"No row carries a label in {label_desc}: every label set is empty.")
    if len(names) < 2:
        raise UserError(f"{label_desc} hold only one label ({next(iter(names))!r}). Multi-label data needs at least "
                        f"two labels; for a yes/no question, use single-label data with two classes.")


def _stratified_split(clean: pd.DataFrame, fraction: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Per-class split so every class with two or more rows appears in both splits."""
    rng = np.random.default_rng(seed)
    train_idx, val_idx, too_small = [], [], []
    for name, group in clean.groupby("label_name", sort=True):
        index = group.index.to_numpy().copy()
        rng.shuffle(index)
        if len(index) < 2:
            too_small.append(str(name))
            train_idx.extend(index)
            continue
        n_val = min(len(index) - 1, max(1, int(round(len(index) * fraction))))
        val_idx.extend(index[:n_val])
        train_idx.extend(index[n_val:])
    return clean.loc[sorted(train_idx)], clean.loc[sorted(val_idx)], too_small


def length_stats(texts: list[str], model: str | None) -> dict:
    """Token-length statistics in the chosen model's tokenizer and a suggested ``max_length``."""
    from trainer.models import load_tokenizer, model_max_length

    tokenizer = load_tokenizer(model)
    sample = texts[:20000]
    lengths = np.array([len(ids) for ids in tokenizer(sample, truncation=False, add_special_tokens=True,
                                                     verbose=False)["input_ids"]])
    limit = model_max_length(tokenizer)
    p95 = float(np.percentile(lengths, 95))
    suggested = int(min(limit, max(16, int(math.ceil(p95 / 8.0) * 8))))
    counts, edges = np.histogram(lengths, bins=min(30, max(1, len(set(lengths.tolist())))))
    return {"unit": "tokens", "sampled": len(sample), "min": int(lengths.min()), "mean": round(float(lengths.mean()), 1),
            "p50": float(np.percentile(lengths, 50)), "p95": p95, "max": int(lengths.max()),
            "model_limit": limit, "suggested_max_length": suggested,
            "truncated_at_limit": int((lengths > limit).sum()),
            "histogram": counts.tolist(), "histogram_edges": edges.round(1).tolist()}


def _class_counts(train: pd.DataFrame, validation: pd.DataFrame, labels: list[str], multi: bool) -> tuple[dict, pd.Series]:
    if multi:
        counts = pd.Series(label_sets.indicator_matrix(train["label_name"], labels).sum(0).astype(int), index=labels)
        val = label_sets.indicator_matrix(validation["label_name"], labels).sum(0).astype(int)
        return {n: {"train": int(counts[n]), "validation": int(v)} for n, v in zip(labels, val)}, counts
    counts = train["label_name"].value_counts()
    return {name: {"train": int(counts.get(name, 0)),
                   "validation": int((validation["label_name"] == name).sum())} for name in labels}, counts


def _drop_unseen(validation: pd.DataFrame, labels: list[str], multi: bool, fmt: LabelFormat,
                 warnings: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Labels never seen in train cannot be predicted: leave them out of validation, and say so."""
    known = set(labels)
    if multi:
        unseen = sorted({n for names in validation["label_name"] for n in names} - known)
        if unseen:
            validation = validation.copy()
            validation["label_name"] = validation["label_name"].map(lambda s: tuple(n for n in s if n in known))
            warnings.append(f"Validation uses labels never seen in train ({', '.join(unseen[:5])}); they were "
                            f"left out of its label sets because the model cannot predict them.")
            if fmt.form != "indicator_columns":  # a cell that named only unseen labels has no label left
                validation = validation[validation["label_name"].map(len) > 0]
        return validation, unseen
    unseen = sorted(set(validation["label_name"]) - known)
    if unseen:
        n_unseen = int(validation["label_name"].isin(unseen).sum())
        warnings.append(f"Validation has {n_unseen} rows with labels never seen in train ({', '.join(unseen[:5])}); "
                        f"they were left out of validation because the model cannot predict them.")
        validation = validation[~validation["label_name"].isin(unseen)]
    return validation, unseen


def _split_by_column(column: pd.Series, clean: pd.DataFrame, split, validation_fraction: float, seed: int):
    """(train, validation, test, classes too small to stratify, where the split came from) of a ``split`` column;
    without validation rows, a hold-out of train."""
    splits = column.astype(str).str.strip().str.lower().to_numpy()[clean["row"].to_numpy() - 1]
    unknown = sorted(set(splits) - set(SPLIT_NAMES))
    if unknown:
        raise UserError(f"Column {column.name!r} has values {unknown[:5]} that are not a split name. "
                        f"Use train, validation or test (also accepted: val, valid, dev, eval).")
    mapped = np.array([SPLIT_NAMES[s] for s in splits])
    train, validation, test = clean[mapped == "train"], clean[mapped == "validation"], clean[mapped == "test"]
    source = f"column {column.name!r}"
    if len(train) == 0:
        raise UserError(f"Column {column.name!r} marks no rows as 'train'. Mark the training rows as train.")
    too_small = []
    if len(validation) == 0:
        train, validation, too_small = split(train, validation_fraction, seed)
        source += f" (no validation rows, so {validation_fraction:.0%} of train was held out)"
    return train, validation, test, too_small, source


def _validation_file(path, limits, text_col: str, label_cols: list[str], fmt, label_desc: str):
    """(the cleaned rows, the file's info with its dropped rows, its reading notes) of a separate validation file,
    read with the training file's columns and label format."""
    vdf, vinfo, vnotes = read_table(path, limits)
    v_text = check_column(vdf, text_col, "text", vinfo.name)
    v_columns = [check_column(vdf, c, "label", vinfo.name) for c in label_cols]
    v_fmt = LabelFormat(**{**fmt.to_dict(), "columns": v_columns}) if fmt.task == "multi" else fmt
    validation, vdropped = _clean(vdf, v_text, _labels_of(vdf, v_columns[0], v_fmt, vinfo.name), label_desc, vinfo.name)
    return validation, {**asdict(vinfo), "dropped_rows": vdropped}, [f"Validation file: {n}" for n in vnotes]


@dataclass
class _Columns:
    """What the file's columns were read as: the text column, the label column(s) and their format."""

    text: str
    label: str | None  # None for one 0/1 column per label
    fmt: LabelFormat
    detected: dict  # the report's "detected": what detection guessed, and why

    @property
    def multi(self) -> bool:
        return self.fmt.task == "multi"

    @property
    def labels(self) -> list[str]:
        return self.fmt.columns if self.multi else [self.label]

    @property
    def desc(self) -> str:
        return (f"label columns {', '.join(map(repr, self.labels))}" if len(self.labels) > 1
                else f"label column {self.labels[0]!r}")


def _columns(df: pd.DataFrame, name: str, text_column: str | None, label_column: str | None, task: str,
             label_delimiter: str | None, label_columns: list[str] | None, warnings: list[str]) -> _Columns:
    """The text and label columns (named, else detected) and the label format (single, or a multi-label form)."""
    text_guess, label_guess, why = detect_columns(df)
    text_col = check_column(df, text_column, "text", name) if text_column else text_guess
    label_col = check_column(df, label_column, "label", name) if label_column else label_guess
    if text_col is None:
        raise UserError(f"No text column found in {name!r}: no column holds strings. "
                        f"Columns: {', '.join(map(repr, df.columns))}. Name the text column yourself.")
    # The column detection picked, sent back by a form that was filled from detection, is not a user's choice:
    # the file is read as if nothing were named (the browser and the CLI read a file the same way).
    by_name = (bool(label_column) and label_column != label_guess) or why.get("label", "").startswith("named")
    fmt = label_sets.detect_format(df, text_col, label_col, by_name, task, label_delimiter, label_columns, name)
    if fmt.unsure:
        warnings.append(fmt.unsure)
    if fmt.form == "indicator_columns":
        label_col = None
    elif label_col is None:
        raise UserError(f"No label column found in {name!r} (looked for a column named label, class, category, "
                        f"sentiment, target, intent, ... or with few distinct values). "
                        f"Columns: {', '.join(map(repr, df.columns))}. Name the label column yourself.")
    if text_col == label_col or text_col in fmt.columns:
        raise UserError(f"The text and label columns are both {text_col!r}; pick two different columns.")
    return _Columns(text_col, label_col, fmt, {"text": text_guess, "label": label_guess,
                                               "why": {**why, "task": fmt.why}})


def _splits(df: pd.DataFrame, clean: pd.DataFrame, cols: _Columns, validation_file, validation_fraction: float,
            seed: int, limits, warnings: list[str]):
    """(train, validation, test or None, labels too rare to stratify, where the split came from, the validation
    file's info): a ``split`` column, else a validation file, else a stratified hold-out."""
    def split(frame: pd.DataFrame, fraction: float, seed: int):
        return split_keeping_copies_together(label_sets.stratified_split if cols.multi else _stratified_split,
                                              frame, fraction, seed)

    split_col = next((c for c in df.columns if c.lower() == "split" and c != cols.text and c not in cols.labels), None)
    if split_col:
        train, validation, test, too_small, source = _split_by_column(df[split_col], clean, split,
                                                                      validation_fraction, seed)
        return train, validation, test, too_small, source, None
    if validation_file:
        validation, info, notes = _validation_file(validation_file, limits, cols.text, cols.labels, cols.fmt,
                                                   cols.desc)
        warnings += notes
        return clean, validation, None, [], f"validation file {info['name']!r}", info
    train, validation, too_small = split(clean, validation_fraction, seed)
    method = "iteratively stratified" if cols.multi else "stratified"
    return train, validation, None, too_small, f"{method} {validation_fraction:.0%} hold-out (seed {seed})", None


def _label_names(train: pd.DataFrame, validation: pd.DataFrame, cols: _Columns, too_small: list[str],
                 warnings: list[str]) -> tuple[list[str], pd.DataFrame]:
    """The labels (from train), checked; validation without the labels train lacks."""
    if cols.multi:
        _check_label_sets(train, cols.desc)
        labels = label_order({n for names in train["label_name"] for n in names})
    else:
        _check_labels(train, cols.label, cols.text)
        labels = label_order(set(train["label_name"]))
    validation, unseen = _drop_unseen(validation, labels, cols.multi, cols.fmt, warnings)
    if len(validation) == 0:
        why_empty = f" none of its labels ({', '.join(unseen[:5])}) occur in train" if unseen else " it has no usable rows"
        raise UserError(f"The validation split is empty:{why_empty}. Check that train and validation use the same "
                        f"label names.")
    if too_small:
        kind = "Labels" if cols.multi else "Classes"
        warnings.append(f"{kind} with a single example cannot be stratified and were kept in train only: "
                        f"{', '.join(too_small[:EXAMPLES_SHOWN])}" + (" ..." if len(too_small) > EXAMPLES_SHOWN else "")
                        + ". Add more examples of them for a meaningful validation score.")
    return labels, validation


def _encoded(part: pd.DataFrame, labels: list[str], multi: bool) -> pd.DataFrame:
    """text, label (an id, or a list of ids), row: what training reads."""
    label_ids = {name: i for i, name in enumerate(labels)}
    if multi:
        ids = part["label_name"].map(lambda names: [label_ids[n] for n in names if n in label_ids])
    else:
        ids = part["label_name"].map(label_ids).to_numpy().astype("int64")
    return pd.DataFrame({"text": part["text"].to_numpy(), "label": list(ids) if multi else ids,
                         "row": part["row"].to_numpy()})


def load_dataset_file(path: str | Path, text_column: str | None = None, label_column: str | None = None,
                      validation_file: str | Path | None = None, model: str | None = None,
                      validation_fraction: float = 0.1, seed: int = 42, limits: IntakeLimits | None = None,
                      with_lengths: bool = True, task: str = "auto", label_delimiter: str | None = None,
                      label_columns: list[str] | None = None) -> Intake:
    """Read, check and split a labeled dataset; raise ``UserError`` with a fixable message on bad input.

    ``task`` (auto / single / multi), ``label_delimiter`` and ``label_columns`` (one 0/1 column per label)
    override what is detected for multi-label data (label_sets.py).
    """
    if not 0 < validation_fraction < 0.9:
        raise UserError(f"Validation fraction must be between 0 and 0.9, got {validation_fraction}.")
    df, info, warnings = read_table(path, limits)
    cols = _columns(df, info.name, text_column, label_column, task, label_delimiter, label_columns, warnings)
    clean, dropped = _clean(df, cols.text, _labels_of(df, cols.label, cols.fmt, info.name), cols.desc, info.name)
    train, validation, test, too_small, split_source, validation_info = _splits(
        df, clean, cols, validation_file, validation_fraction, seed, limits, warnings)
    labels, validation = _label_names(train, validation, cols, too_small, warnings)
    if test is not None:
        test = (test.assign(label_name=test["label_name"].map(lambda s: tuple(n for n in s if n in labels)))
                if cols.multi else test[test["label_name"].isin(labels)])
    duplicates = find_duplicates(clean)
    leaked = set(train["text"]) & set(validation["text"])
    class_counts, counts = _class_counts(train, validation, labels, cols.multi)
    multi_report = label_sets.report(train, validation, labels) if cols.multi else None
    warnings += data_warnings(counts[counts > 0], cols.multi, dropped, duplicates, leaked, split_source, multi_report)
    # Over train and validation: a run truncates both at one max_length, and validation may hold longer texts.
    lengths = length_stats(train["text"].tolist() + validation["text"].tolist(), model) if with_lengths else None
    if lengths and lengths["truncated_at_limit"]:
        warnings.append(f"{plural(lengths['truncated_at_limit'], 'text', 'are')} longer than the model's limit of "
                        f"{lengths['model_limit']} tokens and will be truncated.")
    report = Report(
        file=asdict(info), text_column=cols.text, label_column=cols.label or ", ".join(cols.labels),
        detected=cols.detected, labels=labels, rows_total=info.rows, rows_used=len(clean), split_source=split_source,
        split_sizes={"train": len(train), "validation": len(validation), "test": 0 if test is None else len(test)},
        class_counts=class_counts, dropped_rows=dropped, duplicates=duplicates,
        leakage={"count": len(leaked), "examples": sorted(leaked)[:EXAMPLES_SHOWN]},
        length=lengths, warnings=warnings, validation_file=validation_info, task=cols.fmt.task,
        label_format=cols.fmt.to_dict(), multi_label=multi_report)
    return Intake(train=_encoded(train, labels, cols.multi), validation=_encoded(validation, labels, cols.multi),
                  test=_encoded(test, labels, cols.multi) if test is not None and len(test) else None, labels=labels,
                  report=report)
