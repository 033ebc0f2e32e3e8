"""Small data: ClassiTune's defaults vs its own quick baseline, SetFit, and the recipe before warm starts.

    python bench/bench_small.py [--datasets sst2,banking77,trec,ag_news,tweet_eval_emoji] [--per-class 8,32,128]
                                [--seeds 0,1,2] [--systems ours,ours-default,full,before,setfit,setfit-mpnet]
                                [--setfit-python /path/to/venv/bin/python]

"ours" trains with model=auto (bodies measured on the slice; all-mpnet-base-v2 is a candidate once
scripts/get_mpnet.py installed it, with CLASSITUNE_BODIES_DIR pointing there), "ours-default" with MiniLM;
"setfit-mpnet" is SetFit with all-mpnet-base-v2. TweetEval emoji keeps its 8 most frequent classes.

Each slice takes N training rows per class (seeded; the same slice for every system) and is scored on a held-out
test set: SST-2 dev (872), Banking77 test (3,080), TREC test (500), AG News: the second half of its test file
(3,800; the slices come from the first half); datasets with one file (climate_change_tweets, sms_spam): a seeded,
stratified 20 % hold-out. A large ``--per-class`` takes the whole training set. "ours" is a run with the defaults
(method auto: setfit on few rows per class, else full; the run holds out 10 % for validation, as in the app);
"full" the same with method full; "baseline" is that run's own quick baseline (frozen embeddings + logistic
regression); "chosen" is whichever of the two the run recommends; "before" is the recipe of issue 13 (3 epochs,
batch 32, random head, one learning rate, [CLS] pooling). SetFit itself runs in a subprocess with its documented
paper setting, ``num_iterations=20``, otherwise defaults, on the same rows. One JSON line per run on stdout;
a summary table at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from common import SHARED, machine

TEST_ROWS = 2000  # larger test sets are subsampled (seeded) to keep a run's scoring under a minute on a CPU


def load(dataset: str, test_rows: int = TEST_ROWS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(pool to draw training slices from, test set)."""
    folder = SHARED / dataset
    if dataset == "ag_news":
        frame = pd.read_csv(folder / "test.csv").sample(frac=1.0, random_state=0).reset_index(drop=True)
        pool, test = frame.iloc[:len(frame) // 2], frame.iloc[len(frame) // 2:]
    elif not (folder / "test.csv").exists():  # one file (climate tweets, SMS spam): a seeded, stratified 20 % test
        from sklearn.model_selection import train_test_split

        frame = pd.read_csv(folder / "train.csv")
        pool, test = train_test_split(frame, test_size=0.2, stratify=frame["label"], random_state=0)
    else:
        pool = pd.read_csv(folder / "train.csv")
        test = pd.read_csv(folder / ("validation.csv" if dataset == "sst2" else "test.csv"))
    if dataset == "tweet_eval_emoji":  # its 8 most frequent classes (issue 31's grid)
        top = pool["label"].value_counts().index[:8]
        pool, test = pool[pool["label"].isin(top)], test[test["label"].isin(top)]
    if len(test) > test_rows:
        test = test.sample(n=test_rows, random_state=0)
    return pool[["text", "label"]], test[["text", "label"]].reset_index(drop=True)


def slice_of(pool: pd.DataFrame, per_class: int, seed: int) -> pd.DataFrame:
    parts = [group.sample(n=min(per_class, len(group)), random_state=seed) for _, group in pool.groupby("label")]
    return pd.concat(parts).sample(frac=1.0, random_state=seed).reset_index(drop=True)


def prepared_run(path: Path, settings: dict, workdir: Path, seed: int):
    """The run directory for a benchmark run, prepared as the app and the CLI prepare theirs (trainer/start.py)."""
    from trainer.config import TrainConfig
    from trainer.runs.hardware import detect
    from trainer.runs.store import Run
    from trainer.runs.start import prepare_run, write_run

    prepared = prepare_run(path, TrainConfig.from_dict({**settings, "seed": seed}), on_gpu=detect().device == "cuda")
    run = Run(workdir / "run")
    write_run(run, prepared)
    return run, prepared


def classitune(train: pd.DataFrame, test: pd.DataFrame, settings: dict, workdir: Path, seed: int) -> dict:
    from trainer.predict import BaselineClassifier, Classifier
    from trainer.training.train import run_training

    path = workdir / "train.csv"
    train.to_csv(path, index=False)
    run, prepared = prepared_run(path, settings, workdir, seed)
    config, intake = prepared.config, prepared.intake
    started = time.time()
    status = run_training(run, config, intake.train, intake.validation, intake.labels)
    seconds = time.time() - started
    texts, truth = test["text"].tolist(), test["label"].to_numpy()

    def accuracy(classifier) -> tuple[float, float]:
        predicted = np.array([r["label"] for r in classifier.predict(texts, top_k=1)])
        return float(np.mean(predicted == truth)), float(f1_score(truth, predicted, average="macro"))

    (tuned, tuned_f1), (base, base_f1) = accuracy(Classifier(str(run.model_dir))), accuracy(BaselineClassifier(str(run.dir)))
    chosen = status["recommended"]["model"]
    return {"tuned": tuned, "baseline": base, "chosen": tuned if chosen == "tuned" else base,
            "tuned_macro_f1": round(tuned_f1, 4), "baseline_macro_f1": round(base_f1, 4),
            "recommended": chosen, "method": config.method, "seconds": round(seconds, 1),
            "body": status.get("base_model_name"), "body_choice": (status.get("model_choice") or {}).get("reason"),
            "epochs": status["config_resolved"]["epochs"],
            "steps": status.get("best_checkpoint_step"), "samples_per_second": status.get("samples_per_second")}


def setfit_one(train: pd.DataFrame, test: pd.DataFrame, seed: int, body: str = "default") -> dict:
    """Run inside the SetFit venv: the documented paper setting (num_iterations=20), otherwise SetFit's defaults."""
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments

    from trainer.models import resolve_model

    model = SetFitModel.from_pretrained(resolve_model(body))
    with tempfile.TemporaryDirectory() as checkpoints:
        args = TrainingArguments(output_dir=checkpoints, num_iterations=20, seed=seed, report_to="none")
        trainer = Trainer(model=model, args=args, train_dataset=Dataset.from_pandas(train, preserve_index=False))
        started = time.time()
        trainer.train()
        seconds = time.time() - started
    predicted = model.predict(test["text"].tolist(), batch_size=128)
    return {"accuracy": float(np.mean(np.array(list(predicted)) == test["label"].to_numpy())),
            "seconds": round(seconds, 1)}


# SetFit's reference bodies: MiniLM (embedded) and mpnet. SetFit documents paraphrase-mpnet-base-v2; offline only
# all-mpnet-base-v2 is installable (scripts/get_mpnet.py), so that is the mpnet measured here.
SETFIT_BODIES = {"setfit": "default", "setfit-mpnet": "sentence-transformers/all-mpnet-base-v2"}
BEFORE = {"method": "full", "epochs": 3, "batch_size": 32, "head_init": "random", "head_learning_rate": 1e-4, "pooling": "cls"}


def one(system: str, dataset: str, per_class: int, seed: int, setfit_python: str | None,
        settings: dict | None = None, test_rows: int = TEST_ROWS) -> dict:
    pool, test = load(dataset, test_rows)
    train = slice_of(pool, per_class, seed)
    row = {"system": system, "dataset": dataset, "per_class": per_class, "seed": seed, "rows": len(train)}
    if system in SETFIT_BODIES:
        command = [setfit_python or sys.executable, __file__, "--setfit-one", dataset, str(per_class), str(seed),
                   "--test-rows", str(test_rows), "--setfit-body", SETFIT_BODIES[system]]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            return {**row, "error": done.stderr.strip().splitlines()[-1][:300]}
        return {**row, **json.loads(done.stdout.strip().splitlines()[-1])}
    with tempfile.TemporaryDirectory() as tmp:
        chosen = {"ours": settings or {}, "full": {**(settings or {}), "method": "full"}, "before": BEFORE,
                  "ours-default": {**(settings or {}), "model": "default"}}[system]
        return {**row, **classitune(train, test, chosen, Path(tmp), seed)}


def summarise(rows: list[dict]) -> str:
    systems = ("ours", "ours-default", "full", "setfit", "setfit-mpnet", "before")
    lines = ["| dataset | rows/class | ours: body (method) | ours (chosen) | its baseline | ours, MiniLM | full | "
             "SetFit MiniLM | SetFit mpnet | before | s/run " + " / ".join(systems[:5]) + " |", "|---" * 11 + "|"]
    keys = sorted({(r["dataset"], r["per_class"]) for r in rows})

    def stat(system: str, field: str, dataset: str, per_class: int) -> str:
        values = [r[field] for r in rows if r["system"] == system and r["dataset"] == dataset
                  and r["per_class"] == per_class and r.get(field) is not None]
        if not values:
            return "-"
        if field in ("method", "body"):
            return "/".join(sorted({str(v).split("/")[-1] for v in values}))
        spread = statistics.pstdev(values) if len(values) > 1 else 0.0
        return f"{statistics.mean(values):.3f} ± {spread:.3f}" if field != "seconds" else f"{statistics.mean(values):.0f}"

    for dataset, per_class in keys:
        def cell(system, field, dataset=dataset, per_class=per_class):
            return stat(system, field, dataset, per_class)

        cells = [f"{cell('ours', 'body')} ({cell('ours', 'method')})", cell("ours", "chosen"), cell("ours", "baseline"),
                 cell("ours-default", "chosen"), cell("full", "chosen"), cell("setfit", "accuracy"),
                 cell("setfit-mpnet", "accuracy"), cell("before", "tuned"),
                 " / ".join(cell(system, "seconds") for system in systems[:5])]
        lines.append(f"| {dataset} | {per_class} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", default="sst2,banking77,trec,ag_news")
    parser.add_argument("--per-class", default="8,32,128")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--systems", default="ours,before,setfit")
    parser.add_argument("--setfit-python", default=None, help="a Python with setfit (default: this one)")
    parser.add_argument("--test-rows", type=int, default=TEST_ROWS, help="subsample larger test sets to this many")
    parser.add_argument("--settings", type=json.loads, default=None, help="JSON overrides of ours' defaults")
    parser.add_argument("--setfit-one", nargs=3, metavar=("DATASET", "PER_CLASS", "SEED"))
    parser.add_argument("--setfit-body", default="default", help="with --setfit-one: SetFit's base model")
    parser.add_argument("--summarise", nargs="+", metavar="LOG", help="only print the table of earlier runs' lines")
    args = parser.parse_args()
    if args.summarise:
        lines = [line for log in args.summarise for line in Path(log).read_text().splitlines() if line.startswith("{")]
        print(summarise([r for r in map(json.loads, filter(None, lines)) if "system" in r and "error" not in r]))
        return
    if args.setfit_one:
        dataset, per_class, seed = args.setfit_one
        pool, test = load(dataset, args.test_rows)
        print(json.dumps(setfit_one(slice_of(pool, int(per_class), int(seed)), test, int(seed), args.setfit_body)))
        return
    rows = []
    print(json.dumps({"machine": machine()}), flush=True)
    for dataset in args.datasets.split(","):
        for per_class in map(int, args.per_class.split(",")):
            for seed in map(int, args.seeds.split(",")):
                for system in args.systems.split(","):
                    rows.append(one(system, dataset, per_class, seed, args.setfit_python, args.settings, args.test_rows))
                    print(json.dumps(rows[-1]), flush=True)
    print(summarise(rows))


if __name__ == "__main__":
    main()
