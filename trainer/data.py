"""Dataset intake: read what people really have, explain everything else.

``load_dataset_file`` reads CSV, TSV, JSON Lines or Parquet (by extension and by
sniffing), detects the text and label columns, cleans labels, drops unusable rows,
splits train / validation and returns the prepared splits with a report. Every
problem a user can fix raises ``UserError`` with a message that names the column,
row or line and says what to do.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import UserError

MAX_CLASSES = 1000
LABEL_NAMES = ("label", "labels", "class", "classes", "category", "categories", "sentiment", "target",
               "intent", "y", "tag", "topic", "emotion", "polarity", "stance", "intent_label", "class_label")
SPLIT_NAMES = {"train": "train", "training": "train", "validation": "validation", "valid": "validation",
               "val": "validation", "dev": "validation", "eval": "validation", "test": "test"}
MISSING_LABELS = {"", "nan", "none", "null", "na", "n/a"}
TEXT_EXTENSIONS = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": None}
JSONL_EXTENSIONS = {".jsonl", ".ndjson", ".json"}
PARQUET_EXTENSIONS = {".parquet", ".pq"}
EXAMPLES_SHOWN = 10


@dataclass
class IntakeLimits:
    """Upper bounds that protect a shared Space from a single huge upload."""

    max_bytes: int = 200 * 1024 * 1024
    max_rows: int = 1_000_000


@dataclass
class FileInfo:
    """How a file was read, so the report can say it."""

    name: str
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    has_header: bool = True
    rows: int = 0
    columns: list[str] = field(default_factory=list)


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

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Intake:
    """Prepared splits (``text``, ``label`` as class ids, ``row``: 1-based data row in its file) and the report."""

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame | None
    labels: list[str]
    report: Report

    def save(self, directory: Path) -> None:
        """Write the prepared splits as Parquet, the form a training run reads."""
        directory.mkdir(parents=True, exist_ok=True)
        self.train.to_parquet(directory / "train.parquet", index=False)
        self.validation.to_parquet(directory / "validation.parquet", index=False)
        if self.test is not None and len(self.test):
            self.test.to_parquet(directory / "test.parquet", index=False)


# ---------------------------------------------------------------------------
# Reading files


def _decode(raw: bytes) -> tuple[str, str]:
    """Decode bytes, trying BOMs, UTF-16 without BOM, UTF-8, then cp1252."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise UserError(f"The file starts with a UTF-16 byte-order mark but is not valid UTF-16 ({exc.reason} "
                            f"at byte {exc.start}). Re-save it as UTF-8.") from exc
    head = raw[:4000]
    if head and head.count(0) > len(head) // 4:
        even_zeros = head[0::2].count(0)
        odd_zeros = head[1::2].count(0)
        if abs(even_zeros - odd_zeros) > len(head) // 8:
            codec = "utf-16-le" if odd_zeros > even_zeros else "utf-16-be"
            try:
                return raw.decode(codec), codec
            except UnicodeDecodeError:
                pass
        raise UserError(_binary_message(raw))
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def _binary_message(raw: bytes) -> str:
    if raw.startswith(b"PK\x03\x04"):
        return ("This looks like an Excel workbook or a ZIP archive, not a text table. "
                "Save it as CSV (File > Save As > CSV UTF-8) and upload that.")
    if raw.startswith(b"%PDF"):
        return "This is a PDF, not a table. Export your data as CSV, TSV, JSON Lines or Parquet."
    return ("This looks like a binary file, not a text table. Upload CSV, TSV, JSON Lines (.jsonl) or Parquet; "
            "other text encodings than UTF-8, UTF-16 and cp1252 are not supported.")


def _sniff_format(path: Path, raw: bytes) -> str:
    suffix = path.suffix.lower()
    if raw.startswith(b"PAR1") or suffix in PARQUET_EXTENSIONS:
        return "parquet"
    if suffix in JSONL_EXTENSIONS:
        return "jsonl"
    if suffix in TEXT_EXTENSIONS:
        return "tsv" if TEXT_EXTENSIONS[suffix] == "\t" else "csv"
    stripped = raw.lstrip(b"\xef\xbb\xbf \r\n\t")
    if stripped.startswith((b"{", b"[")):
        return "jsonl"
    return "csv"


def _sniff_delimiter(text: str, fmt: str) -> str:
    sample = "\n".join(text[:65536].splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        return "\t" if fmt == "tsv" else ","


def _csv_error(exc: Exception, delimiter: str) -> UserError:
    message = str(exc)
    where = re.search(r"line (\d+)", message)
    row = re.search(r"row (\d+)", message)
    name = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}.get(delimiter, repr(delimiter))
    if "EOF inside string" in message or "EOF while" in message or "unexpected end of data" in message:
        start = f" starting at line {int(row.group(1)) + 1}" if row else ""
        return UserError(f"Malformed CSV: a quoted field{start} is never closed (unbalanced double quote). "
                         f"Close the quote or escape quotes inside text by doubling them (\"\").")
    if where:
        fields = re.search(r"Expected (\d+) fields in line \d+, saw (\d+)", message)
        detail = f" has {fields.group(2)} fields where the header has {fields.group(1)}" if fields else " is malformed"
        return UserError(f"Malformed CSV: line {where.group(1)}{detail} ({name}-separated). "
                         f"Quote text that contains the separator, or fix that line.")
    return UserError(f"Could not parse the file as {name}-separated text: {message}")


def _read_delimited(text: str, fmt: str) -> tuple[pd.DataFrame, str, bool, list[str]]:
    delimiter = _sniff_delimiter(text, fmt)
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    except StopIteration:
        header = []
    except csv.Error as exc:
        raise _csv_error(exc, delimiter) from exc
    try:
        df = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False,
                         skip_blank_lines=True, engine="c")
    except pd.errors.EmptyDataError as exc:
        raise UserError("The file is empty: it has no header and no rows. Upload a table with a header row "
                        "such as 'text,label' and one example per line.") from exc
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        raise _csv_error(exc, delimiter) from exc
    notes = []
    dupes = sorted({h.strip() for h in header if [x.strip() for x in header].count(h.strip()) > 1})
    if dupes:
        notes.append(f"Duplicate column names {dupes}: pandas renamed the repeats (e.g. {dupes[0]!r}.1); "
                     f"the first of each is used unless you pick another.")
    has_header = True
    if len(df) and _header_looks_like_data(df):
        df = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False, header=None)
        df.columns = [f"column_{i + 1}" for i in range(df.shape[1])]
        has_header = False
        notes.append("The first line looks like data, not a header, so it was read as a row; "
                     "columns are named column_1, column_2, ... Add a header line such as 'text,label' to name them.")
    return df, delimiter, has_header, notes


def _header_looks_like_data(df: pd.DataFrame) -> bool:
    """A header is data when no name is a known column name and a name is sentence-like or repeats as a value."""
    names = [str(c) for c in df.columns]
    known = set(LABEL_NAMES) | {"text", "sentence", "split", "id"}
    if any(n.strip().lower() in known for n in names):
        return False
    for name in names:
        base = re.sub(r"\.\d+$", "", name)
        values = df[name].astype(str).str.strip()
        if len(base.split()) >= 4 or (values == base.strip()).any():
            return True
    return False


_TOO_DEEP = ("{where} nests lists or objects too deeply to read (thousands of levels). Each record must be one "
             "flat object such as {{\"text\": \"...\", \"label\": \"...\"}}.")


def _read_jsonl(text: str) -> pd.DataFrame:
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            records = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise UserError(f"Malformed JSON array at line {exc.lineno}, column {exc.colno}: {exc.msg}. A .json file "
                            f"must hold one array of objects; JSON Lines (.jsonl) must have one object per line such as "
                            f'{{"text": "...", "label": "..."}}.') from exc
        except RecursionError:
            raise UserError(_TOO_DEEP.format(where="The JSON array")) from None
    else:
        records = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise UserError(f"Malformed JSON Lines: line {number} is not valid JSON ({exc.msg}, column {exc.colno}). "
                                f"Each line must be one JSON object such as {{\"text\": \"...\", \"label\": \"...\"}}.") from exc
            except RecursionError:
                raise UserError(_TOO_DEEP.format(where=f"Line {number}")) from None
    if not records:
        raise UserError("The file is empty: it has no JSON records.")
    bad = next((i for i, r in enumerate(records, start=1) if not isinstance(r, dict)), None)
    if bad:
        raise UserError(f"Malformed JSON Lines: record {bad} is not an object. Each line must be an object "
                        f"with named fields such as {{\"text\": \"...\", \"label\": \"...\"}}.")
    return pd.DataFrame.from_records(records)


PARQUET_BATCH = 10_000


def _read_parquet(raw: bytes, name: str, limits: IntakeLimits) -> pd.DataFrame:
    """Parquet compresses repeated text without bound (113 KB can hold 1 GB of text), so the row count is checked
    in the metadata and the decoded size batch by batch, before anything larger than the limits is built."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        source = pq.ParquetFile(io.BytesIO(raw))
        if source.metadata.num_rows > limits.max_rows:
            raise _too_many_rows(name, source.metadata.num_rows, limits)
        batches, decoded = [], 0
        for batch in source.iter_batches(batch_size=PARQUET_BATCH):
            decoded += sum((c.dictionary_decode() if pa.types.is_dictionary(c.type) else c).nbytes
                           for c in batch.columns)
            if decoded > limits.max_bytes:
                row = len(batches) * PARQUET_BATCH + batch.num_rows
                raise UserError(f"{name!r} decodes to more than {limits.max_bytes / 1e6:.0f} MB of data (the upload "
                                f"limit; Parquet compresses repeated text), reached by row {row:,}. Upload a sample, "
                                f"or raise CLASSITUNE_MAX_UPLOAD_MB where you run the app.")
            batches.append(batch)
        return pa.Table.from_batches(batches, schema=source.schema_arrow).to_pandas()
    except UserError:
        raise
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise UserError(f"{name!r} is not a readable Parquet file ({exc}). Re-export it, or upload CSV.") from exc


def _too_many_rows(name: str, rows: int, limits: IntakeLimits) -> UserError:
    return UserError(f"{name!r} has {rows:,} rows, over the {limits.max_rows:,}-row limit. "
                     f"Upload a sample, or raise the limit (CLASSITUNE_MAX_ROWS) where you run the app.")


def read_table(path: str | Path, limits: IntakeLimits | None = None) -> tuple[pd.DataFrame, FileInfo, list[str]]:
    """Read a data file into a DataFrame of strings (and native values from JSON / Parquet)."""
    limits = limits or IntakeLimits()
    path = Path(path)
    if not path.is_file():
        raise UserError(f"File {path.name!r} was not found.")
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise UserError(f"File {path.name!r} is {size / 1e6:.1f} MB, over the {limits.max_bytes / 1e6:.0f} MB limit. "
                        f"Upload a sample, or raise the limit (CLASSITUNE_MAX_UPLOAD_MB) where you run the app.")
    raw = path.read_bytes()
    if not raw.strip():
        raise UserError(f"File {path.name!r} is empty. Upload a table with a header row such as 'text,label'.")
    fmt = _sniff_format(path, raw)
    notes: list[str] = []
    info = FileInfo(name=path.name, format=fmt)
    if fmt == "parquet":
        df = _read_parquet(raw, path.name, limits)
    else:
        if raw.startswith((b"PK\x03\x04", b"%PDF")):
            raise UserError(_binary_message(raw))
        text, info.encoding = _decode(raw)
        if info.encoding in ("cp1252", "latin-1"):
            notes.append(f"The file is not valid UTF-8; it was read as {info.encoding}. "
                         f"Check accented characters in the preview, and save as UTF-8 to be sure.")
        if "\x00" in text:
            raise UserError(_binary_message(raw))
        if fmt == "jsonl":
            df = _read_jsonl(text)
        else:
            df, info.delimiter, info.has_header, more = _read_delimited(text, fmt)
            info.format = "tsv" if info.delimiter == "\t" else "csv"
            notes += more
    if len(df) > limits.max_rows:
        raise _too_many_rows(path.name, len(df), limits)
    df.columns = [str(c).strip() for c in df.columns]
    info.rows, info.columns = len(df), list(df.columns)
    if len(df) == 0:
        raise UserError(f"{path.name!r} has a header ({', '.join(info.columns)}) but no data rows. "
                        f"Add one example per line under the header.")
    return df, info, notes


# ---------------------------------------------------------------------------
# Columns and labels


def _as_label(value) -> str | None:
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


def _as_text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _label_order(labels: set[str]) -> list[str]:
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
            distinct = df[c].map(_as_label).nunique(dropna=True)
            if 2 <= distinct <= MAX_CLASSES and distinct <= max(2, 0.5 * len(df)):
                if best is None or distinct < best[1]:
                    best = (c, distinct)
        if best:
            label = best[0]
            why["label"] = f"fewest distinct values ({best[1]})"
    return text, label, why


def _check_column(df: pd.DataFrame, name: str, role: str, file_name: str) -> str:
    if name in df.columns:
        return name
    matches = [c for c in df.columns if c.lower() == name.strip().lower()]
    if matches:
        return matches[0]
    raise UserError(f"{role.capitalize()} column {name!r} was not found in {file_name!r}. "
                    f"Its columns are: {', '.join(map(repr, df.columns))}.")


def _row_list(rows: list[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:EXAMPLES_SHOWN])
    return shown + (f" and {len(rows) - EXAMPLES_SHOWN} more" if len(rows) > EXAMPLES_SHOWN else "")


def _clean(df: pd.DataFrame, text_col: str, label_col: str, file_name: str) -> tuple[pd.DataFrame, dict]:
    """Keep rows with text and label; return them (with 1-based source row numbers) and what was dropped."""
    texts = df[text_col].map(_as_text)
    labels = df[label_col].map(_as_label)
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
                        f"or a missing label in {label_col!r}. Check that you picked the right columns.")
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


def _duplicates(clean: pd.DataFrame) -> dict:
    key = clean["text"]
    dup_mask = key.duplicated(keep="first")
    conflicts = []
    grouped = clean[key.duplicated(keep=False)].groupby("text")["label_name"].agg(lambda s: sorted(set(s)))
    for text, labels in grouped.items():
        if len(labels) > 1:
            conflicts.append({"text": text[:200], "labels": labels})
    return {"duplicate_texts": int(dup_mask.sum()), "conflicting_labels": len(conflicts),
            "conflicts": conflicts[:EXAMPLES_SHOWN]}


def length_stats(texts: list[str], model: str | None) -> dict:
    """Token-length statistics in the chosen model's tokenizer and a suggested ``max_length``."""
    from .models import load_tokenizer, model_max_length

    tokenizer = load_tokenizer(model)
    sample = texts[:20000]
    lengths = np.array([len(ids) for ids in tokenizer(sample, truncation=False, add_special_tokens=True,
                                                     verbose=False)["input_ids"]])
    limit = model_max_length(tokenizer)
    p95 = float(np.percentile(lengths, 95))
    suggested = int(min(limit, max(16, int(math.ceil(p95 / 8.0) * 8))))
    return {"unit": "tokens", "sampled": len(sample), "min": int(lengths.min()), "mean": round(float(lengths.mean()), 1),
            "p50": float(np.percentile(lengths, 50)), "p95": p95, "max": int(lengths.max()),
            "model_limit": limit, "suggested_max_length": suggested,
            "truncated_at_limit": int((lengths > limit).sum()),
            "histogram": np.histogram(lengths, bins=min(30, max(1, len(set(lengths.tolist())))))[0].tolist(),
            "histogram_edges": np.histogram(lengths, bins=min(30, max(1, len(set(lengths.tolist())))))[1].round(1).tolist()}


def load_dataset_file(path: str | Path, text_column: str | None = None, label_column: str | None = None,
                      validation_file: str | Path | None = None, model: str | None = None,
                      validation_fraction: float = 0.1, seed: int = 42, limits: IntakeLimits | None = None,
                      with_lengths: bool = True) -> Intake:
    """Read, check and split a labeled dataset; raise ``UserError`` with a fixable message on bad input."""
    if not 0 < validation_fraction < 0.9:
        raise UserError(f"Validation fraction must be between 0 and 0.9, got {validation_fraction}.")
    df, info, warnings = read_table(path, limits)
    text_guess, label_guess, why = detect_columns(df)
    text_col = _check_column(df, text_column, "text", info.name) if text_column else text_guess
    label_col = _check_column(df, label_column, "label", info.name) if label_column else label_guess
    if text_col is None:
        raise UserError(f"No text column found in {info.name!r}: no column holds strings. "
                        f"Columns: {', '.join(map(repr, df.columns))}. Name the text column yourself.")
    if label_col is None:
        raise UserError(f"No label column found in {info.name!r} (looked for a column named label, class, category, "
                        f"sentiment, target, intent, ... or with few distinct values). "
                        f"Columns: {', '.join(map(repr, df.columns))}. Name the label column yourself.")
    if text_col == label_col:
        raise UserError(f"The text and label columns are both {text_col!r}; pick two different columns.")
    clean, dropped = _clean(df, text_col, label_col, info.name)
    split_col = next((c for c in df.columns if c.lower() == "split" and c not in (text_col, label_col)), None)
    test = None
    validation_info = None
    if split_col:
        splits = df[split_col].astype(str).str.strip().str.lower().to_numpy()[clean["row"].to_numpy() - 1]
        unknown = sorted(set(splits) - set(SPLIT_NAMES))
        if unknown:
            raise UserError(f"Column {split_col!r} has values {unknown[:5]} that are not a split name. "
                            f"Use train, validation or test (also accepted: val, valid, dev, eval).")
        mapped = np.array([SPLIT_NAMES[s] for s in splits])
        train, validation, test = clean[mapped == "train"], clean[mapped == "validation"], clean[mapped == "test"]
        split_source = f"column {split_col!r}"
        if len(train) == 0:
            raise UserError(f"Column {split_col!r} marks no rows as 'train'. Mark the training rows as train.")
        too_small = []
        if len(validation) == 0:
            train, validation, too_small = _stratified_split(train, validation_fraction, seed)
            split_source += f" (no validation rows, so {validation_fraction:.0%} of train was held out)"
    elif validation_file:
        vdf, vinfo, vnotes = read_table(validation_file, limits)
        warnings += [f"Validation file: {n}" for n in vnotes]
        v_text = _check_column(vdf, text_col, "text", vinfo.name)
        v_label = _check_column(vdf, label_col, "label", vinfo.name)
        validation, vdropped = _clean(vdf, v_text, v_label, vinfo.name)
        validation_info = {**asdict(vinfo), "dropped_rows": vdropped}
        train, too_small = clean, []
        split_source = f"validation file {vinfo.name!r}"
    else:
        train, validation, too_small = _stratified_split(clean, validation_fraction, seed)
        split_source = f"stratified {validation_fraction:.0%} hold-out (seed {seed})"
    _check_labels(train, label_col, text_col)
    labels = _label_order(set(train["label_name"]))
    unseen = sorted(set(validation["label_name"]) - set(labels))
    if unseen:
        n_unseen = int(validation["label_name"].isin(unseen).sum())
        warnings.append(f"Validation has {n_unseen} rows with labels never seen in train ({', '.join(unseen[:5])}); "
                        f"they were left out of validation because the model cannot predict them.")
        validation = validation[~validation["label_name"].isin(unseen)]
    if len(validation) == 0:
        why = f" none of its labels ({', '.join(unseen[:5])}) occur in train" if unseen else " it has no usable rows"
        raise UserError(f"The validation split is empty:{why}. Check that train and validation use the same label names.")
    if too_small:
        warnings.append(f"Classes with a single example cannot be stratified and were kept in train only: "
                        f"{', '.join(too_small[:EXAMPLES_SHOWN])}" + (" ..." if len(too_small) > EXAMPLES_SHOWN else "")
                        + ". Add more examples of them for a meaningful validation score.")
    label_ids = {name: i for i, name in enumerate(labels)}

    def finish(part: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"text": part["text"].to_numpy(),
                             "label": part["label_name"].map(label_ids).to_numpy().astype("int64"),
                             "row": part["row"].to_numpy()})

    if test is not None:
        test = test[test["label_name"].isin(labels)]
    duplicates = _duplicates(clean)
    leaked = set(train["text"]) & set(validation["text"])
    counts = train["label_name"].value_counts()
    class_counts = {name: {"train": int(counts.get(name, 0)),
                           "validation": int((validation["label_name"] == name).sum())} for name in labels}
    if counts.max() > 3 * counts.min():
        warnings.append(f"Classes are imbalanced: the largest ({counts.idxmax()!r}, {counts.max()}) has "
                        f"{counts.max() / counts.min():.1f}x the rows of the smallest ({counts.idxmin()!r}, "
                        f"{counts.min()}). Training uses a class-weighted loss; judge by macro-F1, not accuracy.")
    if dropped["empty_text"]["count"]:
        warnings.append(f"{dropped['empty_text']['count']} rows with empty text were dropped "
                        f"(rows {_row_list(dropped['empty_text']['rows'])}).")
    if dropped["missing_label"]["count"]:
        warnings.append(f"{dropped['missing_label']['count']} rows with a missing label were dropped "
                        f"(rows {_row_list(dropped['missing_label']['rows'])}).")
    if duplicates["conflicting_labels"]:
        first = duplicates["conflicts"][0]
        warnings.append(f"{duplicates['conflicting_labels']} texts appear with different labels, e.g. "
                        f"{first['text'][:60]!r} as {first['labels']}. Fix or remove them: they cap accuracy.")
    if leaked:
        warnings.append(f"{len(leaked)} texts appear in both train and validation (leakage): validation scores "
                        f"will be optimistic. Remove duplicates before splitting.")
    # Over train and validation: a run truncates both at one max_length, and validation may hold longer texts.
    lengths = length_stats(train["text"].tolist() + validation["text"].tolist(), model) if with_lengths else None
    if lengths and lengths["truncated_at_limit"]:
        warnings.append(f"{lengths['truncated_at_limit']} texts are longer than the model's limit of "
                        f"{lengths['model_limit']} tokens and will be truncated.")
    report = Report(
        file=asdict(info), text_column=text_col, label_column=label_col,
        detected={"text": text_guess, "label": label_guess, "why": why}, labels=labels,
        rows_total=info.rows, rows_used=len(clean), split_source=split_source,
        split_sizes={"train": len(train), "validation": len(validation), "test": 0 if test is None else len(test)},
        class_counts=class_counts, dropped_rows=dropped, duplicates=duplicates,
        leakage={"count": len(leaked), "examples": sorted(leaked)[:EXAMPLES_SHOWN]},
        length=lengths, warnings=warnings, validation_file=validation_info)
    return Intake(train=finish(train), validation=finish(validation),
                  test=finish(test) if test is not None and len(test) else None, labels=labels, report=report)
