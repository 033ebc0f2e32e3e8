"""Reading a data file: CSV, TSV, JSON Lines or Parquet (by extension and by sniffing), bounded in size.

Every problem a user can fix raises ``UserError`` with a message that names the line,
row or byte and says what to do. Nothing here knows about columns or labels.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from trainer.errors import UserError

TEXT_EXTENSIONS = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": None}
JSONL_EXTENSIONS = {".jsonl", ".ndjson", ".json"}
PARQUET_EXTENSIONS = {".parquet", ".pq"}
EXCEL_EXTENSIONS = {".xlsx", ".xlsm"}
UNZIPPED_PER_BYTE = 20  # an .xlsx is a zip; more than this much XML per byte of upload is refused (a zip bomb)
# Column names a header line holds (so a header is not mistaken for a data row).
KNOWN_COLUMNS = {"label", "labels", "class", "classes", "category", "categories", "sentiment", "target", "intent",
                 "y", "tag", "topic", "emotion", "polarity", "stance", "intent_label", "class_label", "text",
                 "sentence", "split", "id"}

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
        return ("This looks like an Excel workbook or a ZIP archive named as a text table. Upload the workbook with "
                "its .xlsx name, or save it as CSV (File > Save As > CSV UTF-8) and upload that.")
    if raw.startswith(b"%PDF"):
        return "This is a PDF, not a table. Export your data as CSV, TSV, JSON Lines or Parquet."
    return ("This looks like a binary file, not a text table. Upload CSV, TSV, JSON Lines (.jsonl), Parquet or Excel "
            "(.xlsx); "
            "other text encodings than UTF-8, UTF-16 and cp1252 are not supported.")


def _sniff_format(path: Path, raw: bytes) -> str:
    suffix = path.suffix.lower()
    if raw.startswith(b"PAR1") or suffix in PARQUET_EXTENSIONS:
        return "parquet"
    if suffix in EXCEL_EXTENSIONS and raw.startswith(b"PK\x03\x04"):
        return "excel"
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
    known = KNOWN_COLUMNS
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


def _read_excel(raw: bytes, name: str, limits) -> tuple[pd.DataFrame, str]:
    """The first sheet of a workbook, as strings; which sheet was read is said, so a user with several knows."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unzipped = sum(item.file_size for item in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise UserError(f"{name!r} is not a readable Excel workbook ({exc}). Save it again, or as CSV.") from exc
    if unzipped > UNZIPPED_PER_BYTE * max(len(raw), 1) or unzipped > 4 * limits.max_bytes:
        raise UserError(f"{name!r} unpacks to {unzipped / 1e6:.0f} MB, far more than a table of its size should: "
                        f"save it as CSV and upload that.")
    try:
        sheets = pd.ExcelFile(io.BytesIO(raw), engine="openpyxl")
        df = sheets.parse(sheets.sheet_names[0], dtype=str, keep_default_na=False)
    except Exception as exc:  # openpyxl raises several types for damaged workbooks
        raise UserError(f"{name!r} is not a readable Excel workbook ({type(exc).__name__}). Save it as CSV and "
                        f"upload that.") from exc
    others = len(sheets.sheet_names) - 1
    return df, (f"Read the first sheet, {sheets.sheet_names[0]!r}" + (f"; the other {others} sheet(s) were not read: "
                f"move the data to the first sheet to use another one." if others else "."))


def _too_many_rows(name: str, rows: int, limits: IntakeLimits) -> UserError:
    return UserError(f"{name!r} has {rows:,} rows, over the {limits.max_rows:,}-row limit. "
                     f"Upload a sample, or raise the limit (CLASSITUNE_MAX_ROWS) where you run the app.")


def read_lines(path: str | Path, limits: IntakeLimits | None = None) -> list[str]:
    """A plain text file as texts to classify: one per non-empty line (any encoding ``read_table`` reads)."""
    limits = limits or IntakeLimits()
    path = Path(path)
    if path.stat().st_size > limits.max_bytes:
        raise UserError(f"File {path.name!r} is over the {limits.max_bytes / 1e6:.0f} MB limit; split it.")
    raw = path.read_bytes()
    text = _decode(raw)[0]
    if raw.startswith((b"PK\x03\x04", b"%PDF")) or "\x00" in text:
        raise UserError(_binary_message(raw))
    return [line.strip() for line in text.splitlines() if line.strip()]


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
    elif fmt == "excel":
        df, sheet_note = _read_excel(raw, path.name, limits)
        notes.append(sheet_note)
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


def table_columns(path: str | Path, limits: IntakeLimits | None = None) -> list[str]:
    """A table's column names from its first 64 KB (a Parquet file's schema), so listing the columns of a large
    file, as Predict does on upload, neither reads nor holds the whole file."""
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(65536)
    fmt = _sniff_format(path, head)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            return [n for n in pq.read_schema(path).names if not n.startswith("__index_level_")]
        except Exception as exc:  # noqa: BLE001 - a damaged file: say so in words
            raise UserError(f"{path.name!r} is not a readable Parquet file ({type(exc).__name__}).") from exc
    if fmt == "excel" or len(head) < 65536:  # small or a workbook: the ordinary read, with its checks
        return list(read_table(path, limits)[0].columns)
    if head.startswith((b"PK\x03\x04", b"%PDF")):
        raise UserError(_binary_message(head))
    text = _decode(head[:head.rfind(b"\n") + 1] or head)[0]
    frame = _read_jsonl(text) if fmt == "jsonl" else _read_delimited(text, fmt)[0]
    return [str(c).strip() for c in frame.columns]
