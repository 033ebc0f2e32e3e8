"""Multi-label: a default run on GoEmotions, scored on its official test split, against its quick baseline
and the trivial predictors.

    python bench/bench_multilabel.py [--train-rows 0] [--method full] [--epochs ""] [--seed 0]

``--train-rows 0`` (the default) trains on the whole train split (43,410 comments) with the official validation
split (5,426) for early stopping and the thresholds; a positive value takes a seeded sample of that many training
rows. The run is the CLI's ``train`` with the defaults (``--epochs`` empty: chosen from the data's size); its
tuned thresholds are applied to the test split (5,427) for the fine-tuned model and, with the baseline's own
thresholds, for the quick baseline (frozen embeddings + one-vs-rest logistic regression). Trivial predictors:
all-negative, and always the most frequent training label. Prints one JSON line, then a table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from common import ROOT, SHARED, machine

PUBLISHED = {"BERT-base, GoEmotions paper (Demszky et al., 2020)": {"macro_f1": 0.46},
             "bert-base-cased, 10 epochs, public PyTorch reproduction": {"macro_f1": 0.503}}


def scores_of(truth: np.ndarray, predicted: np.ndarray) -> dict:
    from sklearn.metrics import f1_score

    return {"macro_f1": float(f1_score(truth, predicted, average="macro", zero_division=0)),
            "micro_f1": float(f1_score(truth, predicted, average="micro", zero_division=0))}


def threshold_modes(classifier, validation_file: Path, test_texts: list[str], test_truth: np.ndarray, labels: list[str]) -> dict:
    """The same fine-tuned model on the test split with thresholds tuned on validation per label and globally."""
    from trainer.intake.label_sets import indicator_matrix
    from trainer.tasks import get_task

    def score_matrix(texts: list[str]) -> np.ndarray:
        rows = [r for start in range(0, len(texts), 2000) for r in classifier.predict(texts[start:start + 2000])]
        return np.array([[r["scores"][label] for label in labels] for r in rows])

    validation = pd.read_csv(validation_file)
    sets = validation["labels"].fillna("").map(lambda cell: tuple(p.strip() for p in str(cell).split(",") if p.strip()))
    truth = indicator_matrix(sets, labels)
    val_scores, test_scores = score_matrix(validation["text"].astype(str).tolist()), score_matrix(test_texts)
    task = get_task("multi")
    return {mode: scores_of(test_truth, task.predicted(test_scores, labels, task.thresholds(truth, val_scores, labels, mode)))
            for mode in ("per_label", "global")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-rows", type=int, default=0)
    parser.add_argument("--method", default="full")
    parser.add_argument("--epochs", default="")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", help="run directory (default: a temporary one)")
    parser.add_argument("--class-weights", default="auto", help="auto (positive-class weights when imbalanced) or off")
    parser.add_argument("--validation-rows", type=int, default=0, help="a seeded sample of the validation split")
    args = parser.parse_args()

    from trainer.intake.label_sets import indicator_matrix
    from trainer.predict import BaselineClassifier, Classifier

    folder = SHARED / "go_emotions"
    train = pd.read_csv(folder / "train.csv")
    if args.train_rows:
        train = train.sample(n=args.train_rows, random_state=args.seed)
    test = pd.read_csv(folder / "test.csv")
    work = Path(tempfile.mkdtemp(prefix="bench-ml-"))
    train.to_csv(work / "train.csv", index=False)
    validation = pd.read_csv(folder / "validation.csv")
    if args.validation_rows:
        validation = validation.sample(n=args.validation_rows, random_state=args.seed)
    validation.to_csv(work / "validation.csv", index=False)
    run_dir = Path(args.output) if args.output else work / "run"
    command = [sys.executable, "-m", "trainer", "train", "--data", str(work / "train.csv"), "--validation-file",
               str(work / "validation.csv"), "--output", str(run_dir), "--method", args.method,
               "--seed", str(args.seed), "--class-weights", args.class_weights] + (
                   ["--epochs", args.epochs] if args.epochs else [])
    started = time.time()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    seconds = time.time() - started
    labels = json.loads((run_dir / "labels.json").read_text())
    sets = test["labels"].fillna("").map(lambda cell: tuple(p.strip() for p in str(cell).split(",") if p.strip()))
    truth = indicator_matrix(sets, labels) > 0.5
    texts = test["text"].astype(str).tolist()

    def predicted_by(classifier) -> np.ndarray:
        rows = [r for start in range(0, len(texts), 2000) for r in classifier.predict(texts[start:start + 2000])]
        return indicator_matrix([r["labels"] for r in rows], labels) > 0.5

    tuned, baseline = predicted_by(Classifier(str(run_dir / "model"))), predicted_by(BaselineClassifier(str(run_dir)))
    by_mode = threshold_modes(Classifier(str(run_dir / "model")), work / "validation.csv", texts, truth, labels)
    top = np.zeros_like(truth)
    top[:, int(indicator_matrix(train["labels"].fillna("").map(
        lambda cell: tuple(p.strip() for p in str(cell).split(","))), labels).sum(0).argmax())] = True
    status = json.loads((run_dir / "status.json").read_text())
    result = {"machine": machine(), "train_rows": len(train), "method": args.method, "seconds": round(seconds),
              "schedule": {k: status.get("config_resolved", {}).get(k) for k in ("epochs", "batch_size", "total_steps")},
              "best_step": status.get("best_checkpoint_step"),
              "validation": status.get("best"), "validation_baseline": status.get("baseline"),
              "test": {"fine-tuned": scores_of(truth, tuned), "quick baseline": scores_of(truth, baseline),
                       "all-negative": scores_of(truth, np.zeros_like(truth)), "always the top label": scores_of(truth, top)},
              "class_weights": args.class_weights, "test_by_threshold_mode": by_mode}
    print(json.dumps(result))
    print(f"\n| predictor (test split, {len(texts):,} comments) | macro-F1 | micro-F1 |\n|---|---|---|")
    for name, value in result["test"].items():
        print(f"| {name} | {value['macro_f1']:.3f} | {value['micro_f1']:.3f} |")
    for name, value in PUBLISHED.items():
        print(f"| {name} | {value['macro_f1']:.3f} | |")


if __name__ == "__main__":
    main()
