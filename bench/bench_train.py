"""Training throughput: the stock ``Trainer`` recipe vs ClassiTune's engine, same model, data and epochs.

    python bench/bench_train.py [--rows 2000] [--epochs 3] [--method full]

Stock = the Hugging Face text-classification tutorial: ``Trainer`` with ``DataCollatorWithPadding``, batch 16,
learning rate 2e-5, fp32 on CPU (bf16 on GPU), evaluation and a checkpoint each epoch. Ours = ``run_training``
with its defaults. Both score the SST-2 dev set; samples/s counts training samples x epochs / training time.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from common import machine, sst2


def stock(train: pd.DataFrame, validation: pd.DataFrame, epochs: float, workdir: Path) -> dict:
    import torch
    from datasets import Dataset
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, Trainer,
                              TrainingArguments)

    from trainer.models import embedded_model_dir

    path = str(embedded_model_dir())
    tokenizer = AutoTokenizer.from_pretrained(path)
    labels = sorted(train["label"].unique())
    ids = {name: i for i, name in enumerate(labels)}

    def encode(frame):
        data = Dataset.from_dict({"text": frame["text"].tolist(), "label": frame["label"].map(ids).tolist()})
        return data.map(lambda b: tokenizer(b["text"], truncation=True), batched=True)

    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=len(labels))
    gpu = torch.cuda.is_available()
    args = TrainingArguments(output_dir=str(workdir / "stock"), per_device_train_batch_size=16,
                             per_device_eval_batch_size=16, learning_rate=2e-5, num_train_epochs=epochs,
                             weight_decay=0.01, eval_strategy="epoch", save_strategy="epoch", report_to="none",
                             bf16=gpu and torch.cuda.is_bf16_supported(), disable_tqdm=True, log_level="error")
    trainer = Trainer(model=model, args=args, train_dataset=encode(train), eval_dataset=encode(validation),
                      processing_class=tokenizer, data_collator=DataCollatorWithPadding(tokenizer),
                      compute_metrics=lambda p: {"accuracy": float((np.argmax(p.predictions, -1) == p.label_ids).mean())})
    started = time.time()
    trainer.train()
    seconds = time.time() - started
    accuracy = trainer.evaluate()["eval_accuracy"]
    return {"seconds": seconds, "samples_per_second": len(train) * epochs / seconds, "accuracy": accuracy}


def ours(train: pd.DataFrame, validation: pd.DataFrame, epochs: float, method: str, workdir: Path) -> dict:
    from trainer.config import TrainConfig
    from trainer.intake.data import length_stats
    from trainer.runs.store import Run
    from trainer.training.train import run_training

    labels = sorted(train["label"].unique())
    ids = {name: i for i, name in enumerate(labels)}
    frames = [pd.DataFrame({"text": f["text"], "label": f["label"].map(ids)}) for f in (train, validation)]
    max_length = length_stats(train["text"].tolist(), None)["suggested_max_length"]
    run = Run(workdir / f"ours-{method}")
    run.dir.mkdir()
    status = run_training(run, TrainConfig(method=method, epochs=epochs, max_length=max_length), *frames, labels)
    seconds = status["train_seconds"]
    return {"seconds": seconds, "samples_per_second": len(train) * epochs / seconds,
            "accuracy": status["best"]["accuracy"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--epochs", type=float, default=3)
    parser.add_argument("--method", default="full", choices=["full", "lora"])
    args = parser.parse_args()
    train, validation = sst2(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        a = stock(train, validation, args.epochs, Path(tmp))
        b = ours(train, validation, args.epochs, args.method, Path(tmp))
    result = {"machine": machine(), "data": f"SST-2 train {args.rows} rows, dev 872", "epochs": args.epochs,
              "stock": a, f"ours_{args.method}": b, "speedup": b["samples_per_second"] / a["samples_per_second"]}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
