"""CSV cells that are safe to open in a spreadsheet."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_rows(rows: list[dict]) -> list[dict]:
    """Every text cell of a report made safe; numbers and booleans stay as they are."""
    return [{k: safe_cell(v) if isinstance(v, str) else v for k, v in row.items()} for row in rows]


def safe_cell(value) -> str:
    """Prefix a quote to text a spreadsheet would run as a formula (CSV/formula injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
