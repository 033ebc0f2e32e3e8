"""Multi-label intake: recognise the forms people keep label sets in, parse them, split and report them.

Two forms are recognised with no hints (and can always be forced):

- **one label column holding several names**: ``joy,love``, ``joy; love``, ``joy|love``, a JSON list
  ``["joy", "love"]``, or a native list (JSON Lines, Parquet);
- **one 0/1 column per label** next to the text (also true/false, yes/no), as in toxic-comment data.

A single-label column whose names contain the separator ("Washington, D.C.") is not a label set: the
pieces of a real label set also occur as labels on their own. When the evidence is mixed the report
says so and the data stays single-label.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from trainer.intake.columns import as_label, check_column
from trainer.errors import UserError

TASKS = ("auto", "single", "multi")
DELIMITERS = (",", ";", "|")
TRUE_WORDS = {"1", "true", "yes", "y", "t"}
FALSE_WORDS = {"0", "false", "no", "n", "f"}
CONFIDENT_COVERAGE = 0.8  # share of the pieces of multi-name cells that also occur alone
UNSURE_COVERAGE = 0.3
RARE_LABEL = 5  # fewer validation positives than this: the label's own score (and threshold) is noise
NOT_LABELS = {"split", "id", "idx", "index"}


@dataclass
class LabelFormat:
    """How a file holds its labels: the task and, for multi-label data, the form, delimiter and columns."""

    task: str = "single"  # "single" | "multi"
    form: str = "column"  # column | delimited | json_list | list | indicator_columns
    delimiter: str | None = None
    columns: list[str] = field(default_factory=list)
    why: str = ""
    unsure: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _is_list(value) -> bool:
    return isinstance(value, (list, tuple, np.ndarray))


def _json_list(value) -> list | None:
    if not isinstance(value, str) or not value.strip().startswith("["):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, list) and all(not isinstance(v, (list, dict)) for v in parsed) else None


def _binary(value) -> bool | None:
    """True / False for a 0/1-style cell, None for a missing one; raises ValueError for anything else."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    word = as_label(value)
    if word is None:
        return None
    word = word.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(word)


def _indicator_columns(df: pd.DataFrame, text_col: str | None) -> list[str]:
    """Columns (other than the text, split and id) whose every cell is 0/1, true/false or yes/no."""
    found = []
    for column in df.columns:
        if column == text_col or column.lower() in NOT_LABELS:
            continue
        sample = df[column].head(5000)
        try:
            values = [v for v in (_binary(x) for x in sample) if v is not None]
        except ValueError:
            continue
        if values:
            found.append(column)
    return found


def _delimited_evidence(cells: pd.Series, delimiter: str) -> tuple[float, float, int, int]:
    """(share of cells holding the delimiter, share of their pieces that occur alone, pieces, distinct cells)."""
    holds = cells.str.contains(delimiter, regex=False)
    if not holds.any():
        return 0.0, 0.0, 0, cells.nunique()
    singles = set(cells[~holds].str.strip())
    pieces = {p.strip() for cell in cells[holds] for p in cell.split(delimiter) if p.strip()}
    coverage = len(pieces & singles) / max(1, len(pieces))
    return float(holds.mean()), coverage, len(pieces | singles), cells.nunique()


@dataclass
class LabelOptions:
    """What a caller may force about the labels (the Data tab, ``validate_dataset`` settings, CLI flags)."""

    task: str = "auto"
    delimiter: str | None = None
    columns: list[str] | None = None

    @classmethod
    def from_settings(cls, settings: dict | None) -> "LabelOptions":
        """From the same keys as a run's settings: ``task``, ``label_delimiter``, ``label_columns``."""
        from trainer.config import TrainConfig

        values = {k: v for k, v in (settings or {}).items() if k in ("task", "label_delimiter", "label_columns")}
        unknown = sorted(set(settings or {}) - set(values))
        if unknown:
            raise UserError(f"Unknown label setting(s) {', '.join(unknown)}: use task, label_delimiter, label_columns.")
        config = TrainConfig(**values)
        return cls(config.task, config.label_delimiter, config.label_columns)

    @classmethod
    def from_form(cls, task: str | None, delimiter: str | None, columns: list[str] | None) -> "LabelOptions":
        """From the Data tab's inputs, where an empty field means "detect"."""
        return cls.from_settings({"task": task or "auto", "label_delimiter": delimiter or None,
                                  "label_columns": columns or None})


def resolve_labels(config, report) -> None:
    """Write what intake found into a run's config, so that the run carries its task (tasks/)."""
    config.task, config.text_column = report.task, report.text_column
    found = report.label_format
    if found.get("form") == "indicator_columns":
        config.label_column, config.label_columns = None, found["columns"]
    else:
        config.label_column = report.label_column
        if report.task == "multi" and found.get("delimiter"):
            config.label_delimiter = found["delimiter"]


def detect_format(df: pd.DataFrame, text_col: str | None, label_col: str | None, label_by_name: bool,
                  task: str = "auto", delimiter: str | None = None,
                  label_columns: list[str] | None = None, file_name: str = "the file") -> LabelFormat:
    """Decide single- vs multi-label and the form, from the data unless the caller forced them."""
    if task not in TASKS:
        raise UserError(f"Task {task!r} is not one of auto, single (one label per text) or multi (several).")
    if delimiter is not None and (not isinstance(delimiter, str) or not delimiter.strip() or len(delimiter) > 3):
        raise UserError(f"Label delimiter {delimiter!r}: use one short separator such as ',' ';' or '|'.")
    if label_columns:
        columns = [check_column(df, c, "label", file_name) for c in label_columns]
        if task == "single":
            raise UserError("Several label columns mean multi-label data: set task to multi (or auto), "
                            "or name one label column for single-label data.")
        if len(columns) < 2:
            raise UserError("Name at least two label columns (one 0/1 column per label), or one label column.")
        return LabelFormat("multi", "indicator_columns", columns=columns, why="label columns named by you")
    if task == "single":
        return LabelFormat(why="single-label, set by you")
    if label_col is None or not label_by_name:
        indicators = _indicator_columns(df, text_col)
        if len(indicators) >= 2:
            return LabelFormat("multi", "indicator_columns", columns=indicators,
                               why=f"{len(indicators)} columns hold only 0/1 (or true/false, yes/no) values "
                                   f"and no column is named like a label")
    if label_col is None:
        return LabelFormat(task="multi" if task == "multi" else "single", why="no label column found")
    return _column_format(df[label_col], label_col, task, delimiter)


def _column_format(series: pd.Series, label_col: str, task: str, delimiter: str | None) -> LabelFormat:
    present = series[series.map(lambda v: _is_list(v) or as_label(v) is not None)]
    if len(present) and present.map(_is_list).mean() > 0.5:
        return LabelFormat("multi", "list", columns=[label_col], why=f"{label_col!r} holds lists of labels")
    cells = present.map(lambda v: str(v).strip())
    if len(cells) and cells.map(lambda v: _json_list(v) is not None).mean() > 0.5:
        return LabelFormat("multi", "json_list", columns=[label_col], why=f"{label_col!r} holds JSON lists of labels")
    if delimiter:
        return LabelFormat("multi", "delimited", delimiter, [label_col], why=f"delimiter {delimiter!r} set by you")
    best, unsure = None, None
    for candidate in DELIMITERS:
        share, coverage, pieces, distinct = _delimited_evidence(cells, candidate)
        if share == 0:
            continue
        many_combinations = share >= 0.5 and pieces <= 0.5 * distinct
        if coverage >= CONFIDENT_COVERAGE or many_combinations:
            if best is None or share > best[1]:
                best = (candidate, share, coverage)
        elif coverage >= UNSURE_COVERAGE:
            unsure = (f"{share:.0%} of {label_col!r} cells contain {candidate!r}, but only {coverage:.0%} of the "
                      f"pieces also occur as labels on their own, so each cell was kept as one label. If these are "
                      f"label sets, set task to multi with delimiter {candidate!r}.")
    if best:
        candidate, share, coverage = best
        return LabelFormat("multi", "delimited", candidate, [label_col],
                           why=f"{share:.1%} of {label_col!r} cells hold several names separated by {candidate!r}, "
                               f"and {coverage:.0%} of those names also occur alone")
    if task == "multi":
        return LabelFormat("multi", "delimited", ",", [label_col],
                           why="multi-label set by you; no separator found, so ',' is assumed")
    return LabelFormat(why=f"one label per row in {label_col!r}", unsure=unsure)


def parse_sets(df: pd.DataFrame, fmt: LabelFormat, file_name: str) -> pd.Series:
    """Per row: a sorted tuple of label names (``()``: explicitly no label), or None (a missing label)."""
    if fmt.form == "indicator_columns":
        def row_set(row_number: int, row) -> tuple | None:
            values = {}
            for column in fmt.columns:
                try:
                    values[column] = _binary(row[column])
                except ValueError as exc:
                    raise UserError(f"Label column {column!r}, row {row_number}: {str(exc)[:40]!r} is not 0/1, "
                                    f"true/false or yes/no. One-column-per-label data needs one of those in every "
                                    f"label cell.") from None
            if all(v is None for v in values.values()):
                return None
            return tuple(sorted(c for c, v in values.items() if v))

        return pd.Series([row_set(i, row) for i, (_, row) in enumerate(df.iterrows(), start=1)], index=df.index,
                         dtype=object)
    column = fmt.columns[0]

    def cell_set(value) -> tuple | None:
        if _is_list(value):
            names = [as_label(v) for v in value]
        elif fmt.form == "json_list" and _json_list(value) is not None:
            names = [as_label(v) for v in _json_list(value)]
        else:
            text = as_label(value)
            if text is None:
                return None
            names = [as_label(p) for p in text.split(fmt.delimiter or ",")]
        return tuple(sorted({n for n in names if n}))

    return pd.Series([cell_set(v) for v in df[column]], index=df.index, dtype=object)


def indicator_matrix(sets, labels: list[str]) -> np.ndarray:
    """Multi-hot rows (float32), one column per label in ``labels``' order."""
    index = {name: i for i, name in enumerate(labels)}
    out = np.zeros((len(sets), len(labels)), dtype=np.float32)
    for row, names in enumerate(sets):
        for name in names:
            if name in index:
                out[row, index[name]] = 1.0
    return out


def stratified_split(clean: pd.DataFrame, fraction: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Iterative stratification (Sechidis et al., 2011, via ``iterstrat``): every label keeps its share in both."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit

    labels = sorted({n for names in clean["label_name"] for n in names})
    matrix = indicator_matrix(clean["label_name"], labels)
    splitter = MultilabelStratifiedShuffleSplit(n_splits=1, test_size=fraction, random_state=seed % (2 ** 31))
    train_idx, val_idx = next(splitter.split(np.zeros(len(clean)), matrix))
    single = [labels[j] for j in np.flatnonzero(matrix.sum(0) < 2)]
    return clean.iloc[np.sort(train_idx)], clean.iloc[np.sort(val_idx)], single


def report(train: pd.DataFrame, validation: pd.DataFrame, labels: list[str]) -> dict:
    """Labels per row, the most frequent label pairs, labels too rare to score (train split)."""
    sizes = train["label_name"].map(len)
    pairs: dict[tuple, int] = {}
    for names in train["label_name"]:
        for pair in combinations(names, 2):
            pairs[pair] = pairs.get(pair, 0) + 1
    top = sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    val_counts = indicator_matrix(validation["label_name"], labels).sum(0)
    return {"labels_per_row": {"0": int((sizes == 0).sum()), "1": int((sizes == 1).sum()),
                               "2+": int((sizes >= 2).sum()), "mean": round(float(sizes.mean()), 3)},
            "top_pairs": [{"labels": list(pair), "count": count} for pair, count in top],
            "rare_labels": [name for name, count in zip(labels, val_counts) if count < RARE_LABEL],
            "rare_threshold": RARE_LABEL}

