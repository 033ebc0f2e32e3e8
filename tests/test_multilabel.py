"""Multi-label data end to end on real GoEmotions comments: detection of every form, a full fine-tune scored on
the official test split against the trivial predictors, the pipeline round trip with the saved thresholds,
prediction, the CLI and the model card. LoRA's multi-label head and thresholds are checked on a tiny model (quick);
LoRA learning on real data is tests/test_training.py's."""

import csv
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from conftest import ROOT
from trainer.intake.data import load_dataset_file
from trainer.errors import UserError
from trainer.intake.label_sets import indicator_matrix
from trainer.predict import BaselineClassifier, Classifier
from trainer.runs.store import Run

TEST_ROWS = 1500


def sets_of(cells: pd.Series) -> list[tuple]:
    return [tuple(p.strip() for p in str(c).split(",") if p.strip()) for c in cells.fillna("")]


@pytest.fixture(scope="module")
def go(shared):
    return shared / "go_emotions"


@pytest.fixture(scope="module")
def slices(go, tmp_path_factory):
    folder = tmp_path_factory.mktemp("go")
    pd.read_csv(go / "train.csv").sample(n=1000, random_state=0).to_csv(folder / "train.csv", index=False)
    pd.read_csv(go / "validation.csv").sample(n=400, random_state=0).to_csv(folder / "validation.csv", index=False)
    return folder


def train_cli(slices, out, *extra) -> Run:
    result = subprocess.run([sys.executable, "-m", "trainer", "train", "--data", str(slices / "train.csv"),
                             "--validation-file", str(slices / "validation.csv"), "--output", str(out),
                             "--epochs", "2", *extra], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "micro_f1=" in result.stdout
    return Run(out)


@pytest.fixture(scope="module")
def full_run(slices, tmp_path_factory):
    return train_cli(slices, tmp_path_factory.mktemp("runs") / "full")


@pytest.fixture(scope="module")
def test_split(go):
    test = pd.read_csv(go / "test.csv").sample(n=TEST_ROWS, random_state=1)
    return test["text"].astype(str).tolist(), sets_of(test["labels"])


def test_go_emotions_detected_as_multi_label_with_no_hints(go):
    result = subprocess.run([sys.executable, "-m", "trainer", "validate", str(go / "validation.csv")],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["task"] == "multi" and len(report["labels"]) == 28  # not 296 label combinations
    assert report["label_format"]["form"] == "delimited" and report["label_format"]["delimiter"] == ","
    assert "separated by ','" in report["label_format"]["why"]
    per_row = report["multi_label"]["labels_per_row"]
    assert per_row["2+"] > 0.1 * report["split_sizes"]["train"] and 1.1 < per_row["mean"] < 1.3
    assert report["multi_label"]["top_pairs"][0]["count"] > 10
    assert report["split_source"].startswith("iteratively stratified")
    # Every label keeps its share in the validation split.
    for counts in report["class_counts"].values():
        if counts["train"] >= 40:
            assert counts["validation"] == pytest.approx(counts["train"] / 9, rel=0.35)


def test_forced_single_label_keeps_combinations(go):
    report = load_dataset_file(go / "validation.csv", task="single", with_lengths=False).report
    assert report.task == "single" and len(report.labels) > 100


def test_one_column_per_label(go, tmp_path):
    frame = pd.read_csv(go / "validation.csv").head(600)
    sets = sets_of(frame["labels"])
    names = ["joy", "anger", "neutral", "sadness"]
    out = pd.DataFrame({"id": range(len(frame)), "comment_text": frame["text"]})
    for name in names:
        out[name] = [int(name in s) for s in sets]
    out["anger"] = out["anger"].map({0: "no", 1: "yes"})  # mixed spellings are read alike
    out.to_csv(tmp_path / "toxic_style.csv", index=False)
    intake = load_dataset_file(tmp_path / "toxic_style.csv", with_lengths=False)
    report = intake.report
    assert report.task == "multi" and report.label_format["form"] == "indicator_columns"
    assert sorted(report.labels) == sorted(names) and report.text_column == "comment_text"
    assert "0/1" in report.label_format["why"]
    none = sum(1 for s in sets if not set(s) & set(names))
    assert report.multi_label["labels_per_row"]["0"] + sum(
        len(x) == 0 for x in intake.validation["label"]) == none  # all-zero rows are kept, as "no label"
    assert any("carry no label" in w for w in report.warnings)
    bad = out.astype({"joy": object})
    bad.loc[7, "joy"] = "maybe"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(UserError, match=r"'joy', row 8: 'maybe' is not 0/1"):
        load_dataset_file(tmp_path / "bad.csv", with_lengths=False, label_columns=names)


def test_json_list_column_and_jsonl_lists(go, tmp_path):
    frame = pd.read_csv(go / "validation.csv").head(400)
    lists = [list(s) for s in sets_of(frame["labels"])]
    pd.DataFrame({"text": frame["text"], "tags": [json.dumps(x) for x in lists]}).to_csv(tmp_path / "j.csv", index=False)
    report = load_dataset_file(tmp_path / "j.csv", with_lengths=False).report
    assert report.task == "multi" and report.label_format["form"] == "json_list"
    with open(tmp_path / "j.jsonl", "w") as handle:
        for text, labels in zip(frame["text"], lists):
            handle.write(json.dumps({"text": text, "labels": labels}) + "\n")
    report = load_dataset_file(tmp_path / "j.jsonl", with_lengths=False).report
    assert report.task == "multi" and report.label_format["form"] == "list"
    semicolons = pd.DataFrame({"text": frame["text"], "label": [";".join(x) for x in lists]})
    semicolons.to_csv(tmp_path / "s.csv", index=False)
    assert load_dataset_file(tmp_path / "s.csv", with_lengths=False).report.label_format["delimiter"] == ";"


def test_single_label_names_with_commas_stay_single(tmp_path):
    cities = ["Washington, D.C.", "Paris, France", "Austin, Texas", "Berlin"]
    rows = [{"text": f"a note about trip number {i} and the weather there", "label": cities[i % 4]} for i in range(80)]
    pd.DataFrame(rows).to_csv(tmp_path / "cities.csv", index=False)
    report = load_dataset_file(tmp_path / "cities.csv", with_lengths=False).report
    assert report.task == "single" and "Washington, D.C." in report.labels


def test_multi_label_run_beats_the_trivial_predictors(full_run, test_split, slices):
    texts, truth_sets = test_split
    labels = full_run.labels()
    truth = indicator_matrix(truth_sets, labels) > 0.5
    train_sets = sets_of(pd.read_csv(slices / "train.csv")["labels"])
    top = np.zeros_like(truth)
    top[:, int(indicator_matrix(train_sets, labels).sum(0).argmax())] = True
    trivial_macro = f1_score(truth, top, average="macro", zero_division=0)  # all-negative scores 0
    trivial_micro = f1_score(truth, top, average="micro", zero_division=0)
    status = full_run.status()
    assert status["state"] == "succeeded" and status["config_resolved"]["task"] == "multi-label"
    predicted = indicator_matrix([r["labels"] for r in Classifier(str(full_run.model_dir)).predict(texts)], labels) > 0.5
    macro = f1_score(truth, predicted, average="macro", zero_division=0)
    micro = f1_score(truth, predicted, average="micro", zero_division=0)
    # Measured on this slice (macro / micro): 2 epochs 0.293 / 0.366 (3 epochs: 0.306 / 0.350; LoRA 0.275 /
    # 0.342); always-the-top-label ("neutral", a third of all labels) 0.018 / 0.301. Per-label thresholds
    # maximise each label's F1 (macro), so micro-F1 moves less on 1,000 training rows; the full train split gives
    # 0.525 / 0.594 (BENCHMARKS.md).
    assert macro >= 0.2 and macro > 5 * trivial_macro, macro
    assert micro >= trivial_micro + 0.01, micro
    assert {"micro_f1", "macro_f1", "samples_f1", "exact_match", "hamming_loss", "macro_ap"} <= set(status["best"])


@pytest.mark.quick
def test_lora_multi_label_saves_the_head_and_thresholds_it_evaluated(tmp_path):
    """A LoRA run's ``model/`` is the model its validation scores came from: the trained multi-label head (not a
    fresh one) merged with the adapters, and the tuned thresholds read by ``pipeline()`` as by ``Classifier``."""
    from transformers import pipeline

    from tiny import tiny_classifier
    from trainer.config import TrainConfig
    from trainer.runs.start import prepare_run, write_run
    from trainer.training.train import run_training

    tags = {"good": "praise", "great": "praise", "bad": "complaint", "dull": "complaint", "film": "film",
            "movie": "film"}
    rng = np.random.default_rng(0)
    texts = sorted({" ".join(rng.choice([*tags, "the", "a", "was", "not", "my"], size=4)) for _ in range(400)})
    texts = [t for t in texts if set(t.split()) & set(tags)]
    pd.DataFrame({"text": texts, "labels": [",".join(sorted({tags[w] for w in t.split() if w in tags}))
                                            for t in texts]}).to_csv(tmp_path / "tags.csv", index=False)
    config = TrainConfig(model=str(tiny_classifier(tmp_path / "tiny")), method="lora", epochs=3, max_length=16)
    prepared = prepare_run(tmp_path / "tags.csv", config)
    run = Run(tmp_path / "run")
    write_run(run, prepared)
    status = run_training(run, prepared.config, prepared.intake.train, prepared.intake.validation,
                          prepared.intake.labels)
    assert status["state"] == "succeeded" and status["config_resolved"]["task"] == "multi-label"
    assert (run.path("adapter") / "adapter_config.json").exists()
    labels = run.labels()
    evaluated = pd.read_csv(run.path("eval_predictions.csv"))
    saved = Classifier(str(run.model_dir)).predict(evaluated["text"].tolist())
    for row, ours in zip(evaluated.itertuples(index=False), saved):
        assert ours["scores"] == pytest.approx({name: getattr(row, f"score_{name}") for name in labels}, abs=2e-3)
    classifier = pipeline("text-classification", model=str(run.model_dir), top_k=None)
    thresholds = classifier.model.config.label_thresholds
    theirs = [sorted(s["label"] for s in out if s["score"] >= thresholds[s["label"]])
              for out in classifier(evaluated["text"].tolist())]
    assert theirs == [sorted(r["labels"]) for r in saved]


def test_run_files_and_pipeline_round_trip(full_run, test_split):
    from transformers import pipeline

    evaluation = json.loads(full_run.path("evaluation.json").read_text())
    labels = full_run.labels()
    assert evaluation["task"] == "multi" and len(evaluation["per_class"]) == len(labels)
    assert all(0 < c["threshold"] < 1 for c in evaluation["per_class"])
    assert set(evaluation["thresholds"]["fallback"]) >= {c["label"] for c in evaluation["per_class"] if c["support"] < 5}
    with open(full_run.path("eval_predictions.csv")) as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 400 and {"true_labels", "predicted_labels", f"score_{labels[0]}"} <= set(rows[0])
    evals = [e for e in full_run.metrics() if e["type"] == "eval"]
    assert evals and all("micro_f1" in e and "macro_f1" in e for e in evals)
    texts = test_split[0][:40]
    classifier = pipeline("text-classification", model=str(full_run.model_dir), top_k=None)
    thresholds = classifier.model.config.label_thresholds
    assert thresholds == {c["label"]: c["threshold"] for c in evaluation["per_class"]}
    theirs = [sorted(s["label"] for s in out if s["score"] >= thresholds[s["label"]])
              for out in classifier(texts, truncation=True)]
    ours = Classifier(str(full_run.model_dir)).predict(texts)
    assert theirs == [sorted(r["labels"]) for r in ours]
    assert any(len(x) >= 2 for x in theirs) or any(len(x) == 1 for x in theirs)
    # A caller's single threshold replaces the tuned ones: a lower one never gives fewer labels.
    loose = Classifier(str(full_run.model_dir)).predict(texts, threshold=0.05)
    assert all(set(a["labels"]) <= set(b["labels"]) for a, b in zip(
        Classifier(str(full_run.model_dir)).predict(texts, threshold=0.6), loose))
    base = BaselineClassifier(str(full_run.dir)).predict(texts)
    assert all(set(r["labels"]) <= set(labels) for r in base)


def test_cli_predict_and_card(full_run, tmp_path):
    pd.DataFrame({"text": ["Thank you so much, this made my day!", "=HYPERLINK(\"x\") why would you do that"]}).to_csv(
        tmp_path / "in.csv", index=False)
    result = subprocess.run([sys.executable, "-m", "trainer", "predict", "--model", str(full_run.model_dir),
                             "--input", str(tmp_path / "in.csv"), "--output", str(tmp_path / "out.csv")],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    out = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    assert list(out.columns[:2]) == ["text", "labels"] and len(out.columns) == 2 + len(full_run.labels())
    assert out["text"][1].startswith("'=")  # formula-escaped
    assert "gratitude" in out["labels"][0].split("|")
    def dry_run_card(model: str) -> str:
        """``trainer push --dry-run``: the card that would be pushed for one of the run's two models."""
        done = subprocess.run([sys.executable, "-m", "trainer", "push", "--run", str(full_run.dir), "--repo", "me/go",
                               "--dry-run", "--output", str(tmp_path / model), "--model", model],
                              capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        return (tmp_path / model / "README.md").read_text()

    card = dry_run_card("tuned")
    assert "multi-label classification" in card and "label_thresholds" in card and "Micro F1" in card
    assert "| label | precision | recall | F1 | support | threshold |" in card and "Confusion matrix" not in card
    card = dry_run_card("baseline")
    assert "library_name: setfit" in card and "label_thresholds.json" in card and "Micro F1" in card


def test_baseline_publishes_as_a_one_vs_rest_setfit_model(full_run, test_split, tmp_path):
    """The quick baseline of a multi-label run loads with SetFit in one line; its scores and the shipped thresholds
    give exactly the app's label sets."""
    from setfit import SetFitModel

    from trainer.training.choice import BASELINE
    from trainer.predict import BaselineClassifier
    from trainer.hub.publish import PublishOptions, prepare_folder

    folder = prepare_folder(full_run, PublishOptions(repo_id="alice/go-baseline", model=BASELINE), tmp_path / "up")
    texts = test_split[0][:60]
    model = SetFitModel.from_pretrained(str(folder))
    thresholds = json.loads((folder / "label_thresholds.json").read_text())
    scores = np.asarray(model.predict_proba(texts))
    ours = BaselineClassifier(str(full_run.dir)).predict(texts, top_k=1)
    assert np.allclose(scores, [[r["scores"][label] for label in model.labels] for r in ours], atol=1e-4)
    sets = [{label for label, score in zip(model.labels, row) if score >= thresholds[label]} for row in scores]
    assert sets == [set(r["labels"]) for r in ours] and any(sets)


def test_label_errors_in_label_sets(go, tmp_path):
    """1,000 real comments as JSON Lines lists, 50 of them (seeded) with one label swapped for one they lack:
    the ranking puts them on top far above chance, says which label looks wrong or missing, and both corrected
    files keep the lists and load again."""
    from trainer.intake.data_fixes import write_table
    from trainer.quality.label_errors import corrected_file, label_errors_in_file

    frame = pd.read_csv(go / "train.csv").sample(n=1000, random_state=3).reset_index(drop=True)
    frame["labels"] = sets_of(frame["labels"])
    names = sorted({n for s in frame["labels"] for n in s})
    rng = np.random.default_rng(0)
    flipped = rng.choice(len(frame), size=50, replace=False)
    swapped = {}
    for i in flipped:
        labels = list(frame.at[i, "labels"])
        old = labels.pop(rng.integers(len(labels)))
        new = str(rng.choice([n for n in names if n not in frame.at[i, "labels"]]))
        frame.at[i, "labels"], swapped[int(i) + 1] = tuple(sorted(labels + [new])), (old, new)
    frame["labels"] = frame["labels"].map(list)
    path = write_table(frame, tmp_path / "go.jsonl")
    result = label_errors_in_file(str(path))
    assert result.task == "multi" and "label that looks wrong or missing" in result.note
    top = [r["row"] for r in result.rows[:50]]
    precision = len(set(top) & set(swapped)) / 50
    print(f"\nGoEmotions 1,000 rows, 50 swapped: precision@50 {precision:.2f} (chance 0.05)")
    assert precision >= 0.25  # measured 0.42 (the same on 3,000 rows, bench/bench_label_errors.py)
    found = [r for r in result.rows if r["flagged"] and r["row"] in swapped]
    named = [r for r in found if swapped[r["row"]][1] in r["change"] or swapped[r["row"]][0] in r["change"]]
    assert len(named) >= 0.8 * len(found)  # the swapped-in or swapped-out label is the one named

    original = pd.read_json(path, lines=True)
    suggested = corrected_file(original, result, "suggest")
    assert (suggested[["text", "labels"]].to_json() == original.to_json())  # the user's rows unchanged
    marked = {i + 1: s for i, s in enumerate(suggested["suggested_label"]) if s}
    assert all(isinstance(s, list) for s in suggested["suggested_label"])
    assert marked == {r["row"]: r["suggested_labels"] for r in result.rows if r["flagged"]}
    again = load_dataset_file(write_table(suggested, tmp_path / "suggested.jsonl"), text_column="text",
                              label_column="labels", with_lengths=False)
    assert again.task == "multi" and again.report.rows_used == 1000
    dropped = write_table(corrected_file(original, result, "drop"), tmp_path / "dropped.parquet")
    assert load_dataset_file(dropped, with_lengths=False).report.rows_used == 1000 - result.flagged


def test_run_reviews_label_sets(full_run):
    from space.label_review import label_set_errors

    review = json.loads(full_run.path("label_errors.json").read_text())
    assert review["task"] == "multi" and review["flagged"] == full_run.status()["label_errors"]["flagged"]
    flagged = [r for r in review["rows"] if r["flagged"]]
    assert flagged and all(r["change"].startswith(("likely missing", "likely wrong")) for r in flagged)
    predictions = pd.read_csv(full_run.path("eval_predictions.csv"), keep_default_na=False)
    assert {"baseline_prediction", "verdict"} <= set(predictions.columns)
    shown = label_set_errors(predictions)
    assert set(shown["verdict"]) == {"possible label error", "model error"}
    assert shown["verdict"].iloc[0] == "possible label error"
