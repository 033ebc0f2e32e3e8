"""Likely label errors: flip a known 5 % of labels in real data and count how many the ranking puts on top.

    python bench/bench_label_errors.py [--rows 3000] [--seeds 3] [--share 0.05]

For each dataset: a seeded slice of ``--rows`` rows, embedded once with the default model (as the app does);
per seed, 5 % of the rows get a different label chosen at random (multi-label GoEmotions: one given label is
replaced by one the text does not carry). Reported per method, mean and spread over the seeds:

- precision at N (N = the rows flipped; with this N it equals recall at N);
- the flagged set: how many rows the app flags, and their precision and recall.

Methods: ``reference`` is the calibration the issue quotes (5-fold logistic regression on the raw embeddings,
C=1, rows ordered by self-confidence); ``classitune`` is ``trainer.quality.label_errors`` as the app runs it. Seconds
per 10,000 rows are measured on this machine for embedding and for ranking. Prints one JSON line per dataset,
then a table.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from common import SHARED, machine

DATASETS = {"banking77": "banking77/train.csv", "trec": "trec/train.csv", "sst2": "sst2/train.csv",
            "ag_news": "ag_news/test.csv", "climate_change_tweets": "climate_change_tweets/train.csv",
            "go_emotions (multi-label)": "go_emotions/train.csv"}


def flip_single(labels: np.ndarray, n_labels: int, share: float, seed: int) -> tuple[np.ndarray, set[int]]:
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(labels), size=int(round(share * len(labels))), replace=False)
    noisy = labels.copy()
    for i in chosen:
        noisy[i] = rng.choice([c for c in range(n_labels) if c != labels[i]])
    return noisy, set(chosen.tolist())


def flip_sets(sets: list[tuple], n_labels: int, share: float, seed: int) -> tuple[list[tuple], set[int]]:
    """One given label of each chosen text is replaced by one it does not carry."""
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(sets), size=int(round(share * len(sets))), replace=False)
    noisy = list(sets)
    for i in chosen:
        labels = list(sets[i])
        labels[rng.integers(len(labels))] = rng.choice([c for c in range(n_labels) if c not in sets[i]])
        noisy[i] = tuple(sorted(labels))
    return noisy, set(chosen.tolist())


def reference(features: np.ndarray, frame: pd.DataFrame, n_labels: int, multi: bool) -> np.ndarray:
    """The quoted calibration: raw features, C=1, 5 folds, self-confidence (multi-label: its least trusted label)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold, StratifiedKFold

    if not multi:
        labels = frame["label"].to_numpy()
        probabilities = np.zeros((len(labels), n_labels))
        for fit, held in StratifiedKFold(5, shuffle=True, random_state=0).split(features, labels):
            model = LogisticRegression(max_iter=1000, C=1.0).fit(features[fit], labels[fit])
            probabilities[np.ix_(held, model.classes_)] = model.predict_proba(features[held])
        return np.argsort(probabilities[np.arange(len(labels)), labels], kind="stable")
    from trainer.tasks import get_task

    targets = get_task("multi").targets(frame, n_labels) > 0.5
    probabilities = np.zeros(targets.shape)
    for fit, held in KFold(5, shuffle=True, random_state=0).split(features):
        for j in range(n_labels):
            if targets[fit, j].any() and not targets[fit, j].all():
                model = LogisticRegression(max_iter=1000, C=1.0).fit(features[fit], targets[fit, j])
                probabilities[held, j] = model.predict_proba(features[held])[:, 1]
    return np.argsort(np.where(targets, probabilities, 1 - probabilities).min(1), kind="stable")


def load(name: str, rows: int) -> tuple[pd.DataFrame, list[str], bool]:
    frame = pd.read_csv(SHARED / DATASETS[name])
    multi = "labels" in frame.columns
    frame = frame.sample(n=min(rows, len(frame)), random_state=0).reset_index(drop=True)
    frame["text"] = frame["text"].astype(str)
    if multi:
        sets = frame["labels"].fillna("").map(lambda c: tuple(p.strip() for p in str(c).split(",") if p.strip()))
        names = sorted({n for s in sets for n in s})
        frame["label"] = sets.map(lambda s: tuple(sorted(names.index(n) for n in s)))
        frame = frame[frame["label"].map(len) > 0].reset_index(drop=True)
    else:
        names = sorted(frame["label"].astype(str).unique())
        frame["label"] = frame["label"].astype(str).map({n: i for i, n in enumerate(names)})
    frame["row"] = np.arange(1, len(frame) + 1)
    return frame[["row", "text", "label"]], names, multi


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--share", type=float, default=0.05)
    args = parser.parse_args()

    from trainer.training.baseline import embed, load_encoder
    from trainer.quality.label_errors import find_label_errors

    tokenizer, encoder = load_encoder(None)
    table = []
    for name in DATASETS:
        frame, names, multi = load(name, args.rows)
        started = time.time()
        features = embed(frame["text"].tolist(), encoder, tokenizer, 128)
        embed_seconds = time.time() - started
        found = {"reference": [], "classitune": [], "flagged": [], "flagged_precision": [], "flagged_recall": []}
        rank_seconds = []
        for seed in range(args.seeds):
            noisy = frame.copy()
            if multi:
                noisy["label"], truth = flip_sets(frame["label"].tolist(), len(names), args.share, seed)
            else:
                noisy["label"], truth = flip_single(frame["label"].to_numpy(), len(names), args.share, seed)
            n = len(truth)
            found["reference"].append(len(set(reference(features, noisy, len(names), multi)[:n].tolist()) & truth) / n)
            started = time.time()
            result = find_label_errors(noisy, names, features, total=len(noisy), task="multi" if multi else "single")
            rank_seconds.append(time.time() - started)
            top = {r["row"] - 1 for r in result.rows[:n]}
            flagged = {r["row"] - 1 for r in result.rows if r["flagged"]}
            found["classitune"].append(len(top & truth) / n)
            found["flagged"].append(len(flagged))
            found["flagged_precision"].append(len(flagged & truth) / max(1, len(flagged)))
            found["flagged_recall"].append(len(flagged & truth) / n)
        line = {"dataset": name, "rows": len(frame), "labels": len(names), "flipped": n,
                **{k: [round(float(np.mean(v)), 3), round(float(np.std(v)), 3)] for k, v in found.items()},
                "embed_s_per_10k": round(embed_seconds * 10000 / len(frame), 1),
                "rank_s_per_10k": round(float(np.mean(rank_seconds)) * 10000 / len(frame), 1), "machine": machine()}
        print(json.dumps(line), flush=True)
        table.append(line)
    print("\n| dataset | rows / labels / flipped | reference P@N | **ClassiTune P@N** | flagged: rows, precision, recall "
          "| s per 10k rows: embed + rank |\n|---|---|---|---|---|---|")
    for t in table:
        print(f"| {t['dataset']} | {t['rows']:,} / {t['labels']} / {t['flipped']} | {t['reference'][0]:.3f} ± "
              f"{t['reference'][1]:.3f} | **{t['classitune'][0]:.3f} ± {t['classitune'][1]:.3f}** | "
              f"{t['flagged'][0]:.0f}, {t['flagged_precision'][0]:.2f}, {t['flagged_recall'][0]:.2f} | "
              f"{t['embed_s_per_10k']} + {t['rank_s_per_10k']} |")


if __name__ == "__main__":
    main()
