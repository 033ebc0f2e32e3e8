"""The Data tab's one-click fixes: the rows behind the duplicate and conflict warnings are dropped into a new
file, in the original's format, which validates with the problem gone (the user's file is never changed)."""

import json

import pandas as pd

from conftest import real_slice
from trainer.intake.data import load_dataset_file, read_table
from trainer.intake.data_fixes import FIXES, rows_to_drop, without_rows, write_like


def test_dropping_duplicates_and_conflicts_round_trips_through_intake(shared, tmp_path):
    source = real_slice(shared, "trec", 400, tmp_path / "trec.csv")
    frame = pd.read_csv(source)
    copies = frame.head(5).copy()  # exact copies, same label
    conflict = frame.iloc[[10]].assign(label="a label nobody else uses")  # same text, another label
    messy = pd.concat([frame, copies, conflict], ignore_index=True)
    messy.to_csv(tmp_path / "messy.csv", index=False)
    before = messy.copy()
    report = load_dataset_file(tmp_path / "messy.csv").report.to_dict()
    assert report["duplicates"]["duplicate_texts"] >= 6 and report["duplicates"]["conflicting_labels"] >= 1
    assert not report["leakage"]["count"]  # the app's own split never puts one text in both splits

    for fix, key in (("duplicates", "duplicate_texts"), ("conflicts", "conflicting_labels")):
        rows = rows_to_drop(report, fix)
        original, _, _ = read_table(tmp_path / "messy.csv")
        fixed = write_like(without_rows(original, rows), tmp_path / "messy.csv", tmp_path, FIXES[fix][1])
        again = load_dataset_file(fixed).report.to_dict()
        assert again["duplicates"][key] == 0, fix
        assert again["rows_total"] == len(messy) - len(rows)
    assert pd.read_csv(tmp_path / "messy.csv").equals(before)  # the user's file is unchanged


def test_jsonl_label_lists_survive_a_fix(tmp_path):
    rows = [{"text": f"comment number {i}", "labels": ["joy", "love"] if i % 2 else ["anger"]} for i in range(40)]
    rows.append(dict(rows[3]))
    path = tmp_path / "comments.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    report = load_dataset_file(path).report.to_dict()
    assert report["task"] == "multi" and rows_to_drop(report, "duplicates") == [41]
    original, _, _ = read_table(path)
    fixed = write_like(without_rows(original, [41]), path, tmp_path, FIXES["duplicates"][1])
    assert fixed.suffix == ".jsonl"
    again = load_dataset_file(fixed).report.to_dict()
    assert again["task"] == "multi" and again["duplicates"]["duplicate_texts"] == 0 and again["rows_total"] == 40
