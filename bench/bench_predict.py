"""Prediction throughput: ``pipeline`` (default and batch 64) vs ClassiTune's predictor, same model and texts.

    python bench/bench_predict.py --model RUN_DIR/model [--texts 2000]

Also the median latency of one text through ``Service.predict`` (what the app's ``predict`` endpoint calls),
once the model is loaded. All three must give the same labels; the script checks it.

Also measures the issue's CPU lever, dynamic int8 quantisation of every ``Linear`` (per-channel
weights), and how many SST-2 dev labels it changes: ClassiTune uses it only if none change.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from common import machine, sst2


def timed(fn, texts):
    started = time.perf_counter()
    labels = fn(texts)
    return labels, len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True, help="a tuned model folder, e.g. RUN_DIR/model")
    parser.add_argument("--texts", type=int, default=2000)
    args = parser.parse_args()
    from transformers import pipeline

    from trainer.predict import Classifier

    texts = sst2(args.texts, seed=1)[0]["text"].tolist()
    stock = pipeline("text-classification", model=args.model)
    ours = Classifier(args.model)
    ours.predict(texts[:64])
    stock(texts[:64], batch_size=64)
    default_labels, default_rate = timed(lambda t: [r["label"] for r in stock(t)], texts[:500])
    batched_labels, batched_rate = timed(lambda t: [r["label"] for r in stock(t, batch_size=64)], texts)
    our_labels, our_rate = timed(lambda t: [r["label"] for r in ours.predict(t, top_k=1)], texts)
    agree = sum(a == b for a, b in zip(batched_labels, our_labels)) / len(texts)
    latencies = []
    for text in texts[:100]:
        started = time.perf_counter()
        ours.predict([text])
        latencies.append((time.perf_counter() - started) * 1000)
    print(json.dumps({"machine": machine(), "texts": len(texts), "pipeline_default_texts_per_s": default_rate,
                      "pipeline_batch64_texts_per_s": batched_rate, "ours_texts_per_s": our_rate,
                      "ratio_vs_batch64": our_rate / batched_rate, "ratio_vs_default": our_rate / default_rate,
                      "label_agreement": agree, "single_text_median_ms": statistics.median(latencies),
                      **int8_check(ours, texts)}, indent=1))


def int8_check(ours, texts: list[str]) -> dict:
    """Dynamic int8 quantisation: its speed-up, and the SST-2 dev labels it changes (it must change none)."""
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    from trainer.predict import batched_probabilities

    if next(ours.model.parameters()).is_cuda:
        return {}
    dev = sst2(0)[1]["text"].tolist()
    int8 = quantize_dynamic(ours.model, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)
    rates, labels = {}, {}
    for name, model in (("fp32", ours.model), ("int8", int8)):
        batched_probabilities(model, ours.tokenizer, texts[:64], ours.max_length)
        started = time.perf_counter()
        batched_probabilities(model, ours.tokenizer, texts, ours.max_length)
        rates[name] = len(texts) / (time.perf_counter() - started)
        labels[name] = batched_probabilities(model, ours.tokenizer, dev, ours.max_length).argmax(1)
    return {"int8_speedup": rates["int8"] / rates["fp32"],
            "int8_dev_labels_changed": f"{int((labels['int8'] != labels['fp32']).sum())} of {len(dev)}"}


if __name__ == "__main__":
    main()
