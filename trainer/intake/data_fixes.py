"""One-click fixes the validation report offers: drop exact duplicate rows, or the rows whose text carries
conflicting labels. The user's file is never changed: a new file is written, in the original's format, and
validated like any upload, so the report shows the effect.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from trainer.errors import UserError

FIXES = {"duplicates": ("duplicate_rows", "without-duplicates"),
         "conflicts": ("conflict_rows", "without-conflicts")}


def rows_to_drop(report: dict, fix: str) -> list[int]:
    """1-based row numbers of the original table that a fix drops (from the report of that table)."""
    if fix not in FIXES:
        raise UserError(f"Unknown fix {fix!r}; use one of {', '.join(FIXES)}.")
    duplicates = report.get("duplicates") if isinstance(report, dict) else None
    rows = duplicates.get(FIXES[fix][0]) if isinstance(duplicates, dict) else None
    return [r for r in rows if isinstance(r, int)] if isinstance(rows, list) else []


def without_rows(original: pd.DataFrame, rows: list[int]) -> pd.DataFrame:
    positions = np.arange(1, len(original) + 1)
    return original[~np.isin(positions, rows)].reset_index(drop=True)


def write_like(frame: pd.DataFrame, source: Path, folder: Path, name: str, delimiter: str | None = None) -> Path:
    """Write ``frame`` as ``<source stem>-<name>`` in the source file's own format and, for a text table, with its
    own delimiter (a CSV would turn JSONL label lists into text; a ';' export stays ';'). Excel becomes CSV."""
    suffix = source.suffix.lower()
    keep = suffix in (".jsonl", ".parquet", ".csv", ".tsv", ".txt")
    return write_table(frame, folder / f"{source.stem}-{name}{suffix if keep else '.csv'}", delimiter)


def write_table(frame: pd.DataFrame, path: Path, delimiter: str | None = None) -> Path:
    """JSON Lines, Parquet or a delimited table (tab for .tsv, else ``delimiter`` or a comma), by the name's ending."""
    path = Path(path)
    if path.suffix.lower() == ".jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    elif path.suffix.lower() == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, sep="\t" if path.suffix.lower() == ".tsv" else (delimiter or ","))
    return path
