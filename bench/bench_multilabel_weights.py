"""Multi-label probe weights: full "balanced" class weights against the square-root positive weights the loss uses.

    python bench/bench_multilabel_weights.py [--train-rows 2000] [--seeds 0,1,2]

GoEmotions (28 labels), a seeded sample of its training file, its validation file for the per-label thresholds,
1,500 rows of its test file for the scores. The frozen default encoder embeds every text once; per label, a
logistic regression is fitted with each weighting (trainer/tasks/multi_label.py fits the probe and the quick
baseline this way), its thresholds tuned on validation as a run tunes them; the table is test micro- and
macro-F1 with the tuned thresholds.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from common import SHARED, machine


def frame(name: str, rows: int, seed: int) -> pd.DataFrame:
    data = pd.read_csv(SHARED / "go_emotions" / f"{name}.csv")
    return data.sample(n=min(rows, len(data)), random_state=seed).reset_index(drop=True)


def targets(data: pd.DataFrame, labels: list[str]) -> np.ndarray:
    index = {label: i for i, label in enumerate(labels)}
    out = np.zeros((len(data), len(labels)), dtype=np.int64)
    for row, cell in enumerate(data["labels"].astype(str)):
        for label in cell.split(","):
            if label.strip() in index:
                out[row, index[label.strip()]] = 1
    return out


def fit(features: np.ndarray, y: np.ndarray, weighting: str) -> np.ndarray:
    """Per label: (coef, intercept) stacked as one weight matrix with a bias column."""
    out = np.zeros((y.shape[1], features.shape[1] + 1))
    for j in range(y.shape[1]):
        column = y[:, j]
        if column.all() or not column.any():
            out[j, -1] = 20.0 if column.all() else -20.0
            continue
        positive = min(np.sqrt((len(column) - column.sum()) / column.sum()), 30.0)
        weight = "balanced" if weighting == "balanced" else {0: 1.0, 1: float(positive)}
        clf = LogisticRegression(max_iter=2000, C=1.0, class_weight=weight).fit(features, column)
        out[j, :-1], out[j, -1] = clf.coef_[0], clf.intercept_[0]
    return out


def main() -> None:
    from trainer.tasks import get_task
    from trainer.training.baseline import embed, load_encoder

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train-rows", type=int, default=2000)
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    task = get_task("multi")
    tokenizer, encoder = load_encoder("default")
    test = frame("test", 1500, 0)
    validation = frame("validation", 1000, 0)
    labels = sorted({label.strip() for cell in pd.read_csv(SHARED / "go_emotions" / "train.csv")["labels"].astype(str)
                     for label in cell.split(",")})
    print(json.dumps({"machine": machine()}))
    test_x, val_x = embed(test["text"].tolist(), encoder, tokenizer, 128), embed(validation["text"].tolist(), encoder,
                                                                                  tokenizer, 128)
    rows = []
    for seed in map(int, args.seeds.split(",")):
        train = frame("train", args.train_rows, seed)
        train_x = embed(train["text"].tolist(), encoder, tokenizer, 128)
        for weighting in ("balanced", "sqrt"):
            w = fit(train_x, targets(train, labels), weighting)

            def probs(x, w=w):
                return 1 / (1 + np.exp(-(x @ w[:, :-1].T + w[:, -1])))

            cuts = task.thresholds(targets(validation, labels), probs(val_x), labels, "per_label")
            scores = task.scores(targets(test, labels), probs(test_x), cuts, labels)
            rows.append({"seed": seed, "weighting": weighting, "micro_f1": round(scores["micro_f1"], 4),
                         "macro_f1": round(scores["macro_f1"], 4)})
            print(json.dumps(rows[-1]), flush=True)
    for weighting in ("balanced", "sqrt"):
        picked = [r for r in rows if r["weighting"] == weighting]
        print(f"| {weighting} | " + " | ".join(
            f"{np.mean([r[k] for r in picked]):.4f} ± {np.std([r[k] for r in picked]):.4f}"
            for k in ("micro_f1", "macro_f1")) + " |")


if __name__ == "__main__":
    main()
