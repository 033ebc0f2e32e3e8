"""Malformed and awkward inputs: each is read correctly or yields its own specific, actionable message."""

import json
import subprocess
import sys

import pandas as pd
from pathlib import Path

import pytest

from conftest import ROOT
from trainer.intake.data import IntakeLimits, load_dataset_file, read_table
from trainer.errors import UserError

pytestmark = pytest.mark.quick  # the quick tier (README: Tests)

GOOD = "text,label\n" + "".join(f"review number {i} was {'great' if i % 2 else 'awful'},{'pos' if i % 2 else 'neg'}\n"
                               for i in range(40))


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def read(tmp_path, name, content, **kwargs):
    return load_dataset_file(write(tmp_path, name, content), with_lengths=False, **kwargs)


def error(tmp_path, name, content, **kwargs) -> str:
    with pytest.raises(UserError) as info:
        read(tmp_path, name, content, **kwargs)
    return str(info.value)


# --- rejected, each with its own message -------------------------------------------------------

def test_empty_file(tmp_path):
    assert "is empty" in error(tmp_path, "e.csv", "")


def test_whitespace_only_file(tmp_path):
    assert "is empty" in error(tmp_path, "e.csv", "\n\n  \n")


def test_header_only(tmp_path):
    message = error(tmp_path, "h.csv", "text,label\n")
    assert "no data rows" in message and "text, label" in message


def test_binary_file(tmp_path):
    message = error(tmp_path, "b.csv", bytes(range(256)) * 40)
    assert "binary file" in message


def test_excel_file(tmp_path):
    message = error(tmp_path, "book.csv", b"PK\x03\x04" + b"\x00\x14" * 200)
    assert "Excel" in message and "CSV" in message


def test_unbalanced_quotes_names_the_line(tmp_path):
    content = 'text,label\n"fine text",pos\n"broken text,neg\nmore,pos\n'
    message = error(tmp_path, "q.csv", content)
    assert "never closed" in message and "line" in message


def test_ragged_rows_name_the_line(tmp_path):
    content = "text,label\nhello there,pos\nsecond one,neg\nthird,one,pos,extra\n"
    message = error(tmp_path, "r.csv", content)
    assert "line 4" in message and "fields" in message


def test_single_class_names_the_class(tmp_path):
    content = "text,label\n" + "".join(f"text {i},spam\n" for i in range(20))
    message = error(tmp_path, "one.csv", content)
    assert "only one class" in message and "'spam'" in message


def test_missing_named_column_lists_columns(tmp_path):
    message = error(tmp_path, "m.csv", GOOD, label_column="category")
    assert "'category' was not found" in message and "'text', 'label'" in message


def test_ten_thousand_classes(tmp_path):
    content = "text,label\n" + "".join(f"some text {i},class_{i}\n" for i in range(10000))
    message = error(tmp_path, "many.csv", content)
    assert "10,000 distinct values" in message and "1,000" in message


def test_free_text_label_column(tmp_path):
    content = "text,label\n" + "".join(f"short {i},this label is really a long sentence of free text {i}\n"
                                       for i in range(200))
    message = error(tmp_path, "free.csv", content, label_column="label")
    assert "free text" in message


def test_all_labels_missing(tmp_path):
    content = "text,label\n" + "".join(f"some text {i},\n" for i in range(10))
    message = error(tmp_path, "nolabels.csv", content)
    assert "No usable rows" in message or "No label column" in message


def test_same_column_for_text_and_label(tmp_path):
    assert "both 'text'" in error(tmp_path, "s.csv", GOOD, text_column="text", label_column="text")


def test_unknown_split_values(tmp_path):
    content = "text,label,split\n" + "".join(f"t {i},{i % 2},{'train' if i % 3 else 'holdout'}\n" for i in range(30))
    message = error(tmp_path, "split.csv", content)
    assert "holdout" in message and "train, validation or test" in message


def test_row_limit(tmp_path):
    message = error(tmp_path, "big.csv", GOOD, limits=IntakeLimits(max_rows=10))
    assert "40 rows" in message and "10-row limit" in message


def test_file_size_limit(tmp_path):
    message = error(tmp_path, "big.csv", GOOD, limits=IntakeLimits(max_bytes=100))
    assert "MB" in message and "limit" in message


def test_malformed_jsonl_names_the_line(tmp_path):
    content = '{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}\n{"text": "c", label: z}\n'
    message = error(tmp_path, "bad.jsonl", content)
    assert "line 3" in message


def test_jsonl_of_non_objects(tmp_path):
    assert "not an object" in error(tmp_path, "bad.jsonl", "[1, 2, 3]")


def test_corrupt_parquet(tmp_path):
    assert "not a readable Parquet file" in error(tmp_path, "x.parquet", b"PAR1 this is not really parquet")


def test_parquet_that_decodes_to_gigabytes_is_refused_in_bounded_memory(tmp_path):
    """113 KB of Parquet holding 1,000,000 rows of 1,000 characters (1 GB of text) used to be read whole."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "bomb.parquet"
    chunk = pa.table({"text": ["x" * 1000] * 10_000, "label": ["a", "b"] * 5_000})  # plain strings, as pandas writes
    with pq.ParquetWriter(path, chunk.schema) as writer:
        for _ in range(100):
            writer.write_table(chunk)
    assert path.stat().st_size < 1_000_000  # under 1 MB on disk, 1 GB of text
    # VmHWM: this process's peak memory (ru_maxrss would carry over the test runner's own peak across exec).
    script = ("import re\nfrom trainer.intake.data import read_table\nfrom trainer.errors import UserError\n"
              f"try:\n    read_table({str(path)!r})\nexcept UserError as exc:\n    print(exc)\n"
              "print(int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)) // 1024)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    message, peak_mb = result.stdout.strip().splitlines()
    assert "decodes to more than 210 MB" in message and "CLASSITUNE_MAX_UPLOAD_MB" in message
    assert int(peak_mb) < 1200, peak_mb  # reading it whole took 2-6 GB


def test_json_nested_200000_levels_deep_names_the_line(tmp_path):
    deep = "[" * 200_000 + "]" * 200_000
    message = error(tmp_path, "deep.jsonl", '{"text": "a", "label": "x"}\n{"text": ' + deep + ', "label": "y"}\n')
    assert message.startswith("Line 2 nests lists or objects too deeply")
    assert "JSON array nests" in error(tmp_path, "deep.json", "[" + deep + "]")


def test_parquet_categorical_text_column_with_one_value(tmp_path):
    path = tmp_path / "cat.parquet"
    pd.DataFrame({"text": pd.Categorical(["the same text"] * 40), "label": ["a", "b"] * 20}).to_parquet(path)
    intake = load_dataset_file(path, with_lengths=False)
    assert intake.report.text_column == "text" and intake.labels == ["a", "b"]


def test_parquet_row_limit_is_checked_in_the_metadata(tmp_path):
    path = tmp_path / "rows.parquet"
    pd.DataFrame({"text": ["some text"] * 2000, "label": ["a", "b"] * 1000}).to_parquet(path)
    with pytest.raises(UserError, match="2,000 rows, over the 1,000-row limit"):
        read_table(path, IntakeLimits(max_rows=1000))


# --- read correctly ----------------------------------------------------------------------------

def test_semicolon_delimiter_is_sniffed(tmp_path):
    intake = read(tmp_path, "semi.csv", GOOD.replace(",", ";"))
    assert intake.report.file["delimiter"] == ";" and intake.labels == ["neg", "pos"]


def test_tab_separated_with_csv_extension(tmp_path):
    intake = read(tmp_path, "tabs.csv", GOOD.replace(",", "\t"))
    assert intake.report.file["format"] == "tsv" and len(intake.labels) == 2


def test_utf8_bom(tmp_path):
    intake = read(tmp_path, "bom.csv", b"\xef\xbb\xbf" + GOOD.encode())
    assert intake.report.file["encoding"] == "utf-8-sig" and intake.report.text_column == "text"


def test_utf16(tmp_path):
    intake = read(tmp_path, "u16.csv", ("text,label\n" + "".join(f"caf\u00e9 {i},{i % 2}\n" for i in range(20))).encode("utf-16"))
    assert intake.report.file["encoding"] == "utf-16"
    assert intake.train["text"].str.contains("caf\u00e9").all()


def test_cp1252_fallback_is_reported(tmp_path):
    content = ("text,label\n" + "".join(f"na\u00efve caf\u00e9 \u2013 {i},{i % 2}\n" for i in range(20))).encode("cp1252")
    intake = read(tmp_path, "win.csv", content)
    assert intake.report.file["encoding"] == "cp1252"
    assert any("cp1252" in w for w in intake.report.warnings)
    assert intake.train["text"].str.contains("caf\u00e9 \u2013").all()


def test_nan_labels_are_dropped_and_counted(tmp_path):
    rows = [f"text {i},{'NaN' if i in (3, 8) else ('' if i == 5 else i % 2)}" for i in range(30)]
    intake = read(tmp_path, "nan.csv", "text,label\n" + "\n".join(rows) + "\n")
    dropped = intake.report.dropped_rows["missing_label"]
    assert dropped["count"] == 3 and dropped["rows"] == [4, 6, 9]


def test_empty_texts_are_dropped_with_row_numbers(tmp_path):
    rows = [f"{'' if i in (0, 7) else f'text {i}'},{i % 2}" for i in range(30)]
    intake = read(tmp_path, "empty.csv", "text,label\n" + "\n".join(rows) + "\n")
    assert intake.report.dropped_rows["empty_text"] == {"count": 2, "rows": [1, 8]}
    assert any("rows 1, 8" in w for w in intake.report.warnings)


def test_numeric_labels_keep_numeric_order(tmp_path):
    rows = [f"text {i},{[10, 2, 1][i % 3]}" for i in range(30)]
    assert read(tmp_path, "num.csv", "text,label\n" + "\n".join(rows)).labels == ["1", "2", "10"]


def test_mixed_type_labels_in_jsonl_are_unified(tmp_path):
    values = [1, "1", 1.0, " 1 ", 0, "0", False, "false"] * 4
    lines = [json.dumps({"text": f"text {i}", "label": v}) for i, v in enumerate(values)]
    intake = read(tmp_path, "mixed.jsonl", "\n".join(lines))
    assert intake.labels == ["0", "1", "false"]


def test_boolean_labels(tmp_path):
    rows = [f"text {i},{'True' if i % 2 else 'FALSE'}" for i in range(20)]
    assert read(tmp_path, "bool.csv", "text,label\n" + "\n".join(rows)).labels == ["false", "true"]


def test_very_long_texts_are_kept(tmp_path):
    rows = [f"{'word ' * 20000}{i},{i % 2}" for i in range(10)]
    intake = read(tmp_path, "long.csv", "text,label\n" + "\n".join(rows))
    assert intake.train["text"].str.len().min() > 100000


def test_very_long_texts_warn_about_truncation(tmp_path):
    rows = [f"{'word ' * 700}{i},{i % 2}" for i in range(10)]
    intake = load_dataset_file(write(tmp_path, "long.csv", "text,label\n" + "\n".join(rows)))
    assert intake.report.length["suggested_max_length"] == 512
    assert any("truncated" in w for w in intake.report.warnings)


def test_duplicate_columns_are_reported(tmp_path):
    rows = [f"text {i},{i % 2},{i % 3}" for i in range(30)]
    intake = read(tmp_path, "dup.csv", "text,label,label\n" + "\n".join(rows))
    assert intake.report.label_column == "label" and intake.labels == ["0", "1"]
    assert any("Duplicate column names" in w for w in intake.report.warnings)


def test_no_header_row(tmp_path):
    rows = [f"this is a full sentence of review {i},{'pos' if i % 2 else 'neg'}" for i in range(30)]
    intake = read(tmp_path, "nohead.csv", "\n".join(rows))
    assert intake.report.file["has_header"] is False
    assert intake.report.text_column == "column_1" and intake.report.label_column == "column_2"
    assert intake.report.rows_total == 30


def test_columns_detected_by_content_with_odd_names(tmp_path):
    rows = [f"{i},a long customer message about order {i},{['refund', 'delivery', 'other'][i % 3]}" for i in range(60)]
    intake = read(tmp_path, "odd.csv", "id,body_of_message,kind\n" + "\n".join(rows))
    assert intake.report.text_column == "body_of_message" and intake.report.label_column == "kind"


def test_split_column_is_used(tmp_path):
    rows = [f"text {i},{i % 2},{['train', 'train', 'validation', 'test'][i % 4]}" for i in range(40)]
    intake = read(tmp_path, "splits.csv", "text,label,split\n" + "\n".join(rows))
    assert intake.report.split_sizes == {"train": 20, "validation": 10, "test": 10}


def test_tiny_class_cannot_be_stratified_and_is_named(tmp_path):
    rows = [f"text {i},{'common' if i else 'rare'}" for i in range(30)] + [f"other {i},second" for i in range(30)]
    intake = read(tmp_path, "rare.csv", "text,label\n" + "\n".join(rows))
    assert any("rare" in w and "single example" in w for w in intake.report.warnings)


def test_conflicting_duplicates_are_listed(tmp_path):
    rows = [f"text {i},{i % 2}" for i in range(30)] + ["same text,0", "same text,1", "same text,1"]
    report = read(tmp_path, "dups.csv", "text,label\n" + "\n".join(rows)).report
    assert report.duplicates["duplicate_texts"] == 2
    assert report.duplicates["conflicts"] == [{"text": "same text", "labels": ["0", "1"], "rows": [31, 32, 33]}]
    assert report.duplicates["duplicate_rows"] == [32, 33] and report.duplicates["conflict_rows"] == [31, 32, 33]
    assert any("1 text appears with different labels, e.g. “same text” as 0 and 1" in w for w in report.warnings)
    assert not set(report.leakage["examples"])  # the app's own split keeps the copies of a text together


def test_parquet_and_jsonl_round_trip(tmp_path):
    frame = pd.DataFrame({"sentence": [f"text number {i}" for i in range(30)], "sentiment": [i % 2 == 0 for i in range(30)]})
    frame.to_parquet(tmp_path / "d.parquet")
    frame.to_json(tmp_path / "d.jsonl", orient="records", lines=True)
    for name in ("d.parquet", "d.jsonl"):
        intake = load_dataset_file(tmp_path / name, with_lengths=False)
        assert (intake.report.text_column, intake.report.label_column) == ("sentence", "sentiment")
        assert intake.labels == ["false", "true"]


# --- the CLI -----------------------------------------------------------------------------------

def test_cli_validate_prints_json(tmp_path):
    path = write(tmp_path, "ok.csv", GOOD)
    result = subprocess.run([sys.executable, "-m", "trainer", "validate", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["labels"] == ["neg", "pos"] and report["length"]["suggested_max_length"] >= 16


def test_cli_validate_user_error_is_one_line_exit_2(tmp_path):
    path = write(tmp_path, "one.csv", "text,label\na,x\nb,x\n")
    result = subprocess.run([sys.executable, "-m", "trainer", "validate", str(path)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "only one class" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_hub_dataset_unreachable_says_so(tmp_path):
    from trainer.intake.hub_data import fetch_hub_dataset

    with pytest.raises(UserError, match="Could not load 'someone/some-dataset'.*unreachable"):
        fetch_hub_dataset("someone/some-dataset", "train", tmp_path, max_rows=100)
    with pytest.raises(UserError, match="Type a Hub dataset id"):
        fetch_hub_dataset("  ", "train", tmp_path, max_rows=100)


@pytest.mark.parametrize("name", ["runs", "alice/data", "tests", "/etc", "./runs", "../shared/datasets/sst2", "csv", "parquet",
                                  "a/b/c", "trainer/..", str(Path.home())])
def test_hub_dataset_box_refuses_paths_and_builders(tmp_path, monkeypatch, name):
    """Anything that is, or could resolve to, a local folder or a packaged loader never reaches load_dataset."""
    from trainer.intake.hub_data import fetch_hub_dataset

    (tmp_path / "runs").mkdir()  # the app's default data root, relative to where it runs
    (tmp_path / "alice" / "data").mkdir(parents=True)  # a folder whose name has the shape of a Hub id
    monkeypatch.chdir(tmp_path)

    with pytest.raises(UserError, match="is not a Hugging Face Hub dataset id"):
        fetch_hub_dataset(name, "train", tmp_path, max_rows=100)
    with pytest.raises(UserError, match="is not a split name"):
        fetch_hub_dataset("someone/some-dataset", "../train", tmp_path, max_rows=100)
