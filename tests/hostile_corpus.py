"""A generated corpus of malformed and hostile dataset files, each with the message a user must get.

Used by the security suite, which sends every file through the running app's API
(``validate_dataset``) and a sample of them through the browser. Each entry is
(case id, file name, content, regex the error message must match); an entry with
``None`` as its regex must be accepted (it is awkward, not wrong).
"""

from __future__ import annotations

import gzip
import io
import json

import pandas as pd

RTL, SMILE, UP, DOWN = "\u05e9\u05dc\u05d5\u05dd", "\U0001F600", "\U0001F44D", "\U0001F44E"
ROWS = [(f"review number {i} was {'great' if i % 2 else 'awful'}", "pos" if i % 2 else "neg") for i in range(40)]


def csv_text(rows=ROWS, header=("text", "label"), sep=",") -> str:
    frame = pd.DataFrame(rows, columns=list(header))
    return frame.to_csv(index=False, sep=sep)


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue()


def corpus() -> list[tuple[str, str, bytes, str | None]]:
    good = csv_text()
    cases: list[tuple[str, str, bytes | str, str | None]] = [
        ("empty", "empty.csv", b"", r"is empty"),
        ("blank-lines", "blank.csv", "\n \n\t\n", r"is empty"),
        ("header-only", "header.csv", "text,label\n", r"no data rows"),
        ("binary", "noise.csv", bytes(range(256)) * 64, r"binary file"),
        ("excel-renamed", "book.csv", b"PK\x03\x04" + b"\x00\x14" * 300, r"Excel"),
        ("gzip-renamed", "data.csv", gzip.compress(good.encode()), r"binary file|compressed"),
        ("unbalanced-quote", "quote.csv", 'text,label\n"fine",pos\n"broken,neg\nmore,pos\n', r"line|quote"),
        ("ragged-rows", "ragged.csv", "text,label\na,pos\nb,neg,extra,fields\nc,pos\n", r"line 3|fields"),
        ("one-class", "one.csv", "text,label\n" + "".join(f"t{i},same\n" for i in range(20)), r"only one class.*same"),
        ("all-labels-missing", "nolabels.csv", "text,label\n" + "".join(f"t{i},\n" for i in range(20)),
         r"label"),
        ("ten-thousand-classes", "many.csv",
         "text,label\n" + "".join(f"text {i},class{i}\n" for i in range(12000)), r"1,000|classes"),
        ("free-text-labels", "free.csv",
         "text,label\n" + "".join(f"t{i},this label is a long sentence number {i} and unique\n" for i in range(60)),
         r"label"),
        ("missing-column-hint", "cols.csv", good, r"columns"),  # sent with text_column="body"
        ("same-column-twice", "same.csv", good, r"same column|different"),  # text_column=label_column="text"
        ("jsonl-broken-line", "data.jsonl", '{"text": "a", "label": "x"}\n{"text": "b", "label":\n', r"line 2"),
        ("jsonl-not-objects", "list.jsonl", "[1, 2]\n[3, 4]\n", r"line 2.*one object per line"),
        ("json-scalar", "scalar.json", "42", r"JSON"),
        ("parquet-corrupt", "bad.parquet", b"PAR1" + b"\x00" * 200 + b"PAR1", r"Parquet"),
        ("parquet-wrong-extension", "really.parquet", good, r"Parquet"),
        ("unknown-split-values", "split.csv",
         "text,label,split\n" + "".join(f"t{i},{'a' if i % 2 else 'b'},banana\n" for i in range(20)), r"split"),
        ("utf16-no-bom", "u16.csv", good.encode("utf-16-le"), None),
        ("utf8-bom", "bom.csv", b"\xef\xbb\xbf" + good.encode(), None),
        ("cp1252", "latin.csv", ("text,label\n" + "".join(f"caf\u00e9 {i},{'a' if i % 2 else 'b'}\n"
                                                          for i in range(20))).encode("cp1252"), None),
        ("control-characters", "ctrl.csv", "text,label\n" + "".join(f"t{i}\x1b[31m\x07\x0b,{'a' if i % 2 else 'b'}\n"
                                                                    for i in range(20)), None),
        ("nul-bytes", "nul.csv", "text,label\n" + "".join(f"t\x00{i}\x00,{'a' if i % 2 else 'b'}\n" for i in range(20)),
         r"binary file"),
        ("formula-cells", "formula.csv", "text,label\n" + "".join(f"=cmd|' /C calc'!A{i},{'+a' if i % 2 else '-b'}\n"
                                                                  for i in range(20)), None),
        ("huge-cell", "huge.csv", "text,label\n" + "x" * 2_000_000 + ",a\n" + "short,b\n" * 10 + "other,a\n" * 10,
         None),
        ("html-and-script", "xss.csv", "text,label\n" + "".join(f"<script>alert({i})</script>,<b>{i % 2}</b>\n"
                                                                for i in range(20)), None),
        ("path-like-name", "..%2F..%2Fetc%2Fpasswd.csv", good, None),
        ("semicolons", "semi.csv", csv_text(sep=";"), None),
        ("no-header", "noheader.csv", "".join(f"sentence {i} here,{'a' if i % 2 else 'b'}\n" for i in range(30)),
         None),
        ("nan-labels", "nan.csv", good + "orphan text,NaN\nanother,null\n", None),
        ("emoji-and-rtl", "emoji.csv", "text,label\n" + "".join(f"{RTL} {SMILE} {i},{UP if i % 2 else DOWN}\n"
                                                                for i in range(20)), None),
        ("duplicate-columns", "dups.csv", "text,text,label\n" + "".join(f"a{i},b{i},{'x' if i % 2 else 'y'}\n"
                                                                        for i in range(20)), None),
        ("parquet-ok", "ok.parquet", _parquet(pd.DataFrame(ROWS, columns=["text", "label"])), None),
        ("jsonl-ok", "ok.jsonl", "".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in ROWS), None),
    ]
    return [(cid, name, body.encode("utf-8") if isinstance(body, str) else body, expected)
            for cid, name, body, expected in cases]


COLUMN_HINTS = {"missing-column-hint": ("body", ""), "same-column-twice": ("text", "text")}
