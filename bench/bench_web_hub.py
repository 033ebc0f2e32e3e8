"""The web process while visitors send it Hub work: its memory, and another user's latency (issue 32's measure).

    python bench/bench_web_hub.py [--loads 5] [--predictions 20]

Starts the Hub stand-in (tests/hub_standin.py, the real HTTP protocol) holding a public Parquet "bomb" (under
1 MB on disk, about 1 GB of text once decoded), a 60-row dataset (loaded first, so the loader's own imports are
counted apart) and a public classifier (the embedded MiniLM with a new head,
90 MB of weights), then the app on a fresh data root pointed at it. User A loads the bomb through the Data tab's
"Load from the Hub" box (its private event, by fn_index over the raw queue, as the red team called it) and then
asks Predict for labels from the Hub classifier; user B validates a 60-row file every second throughout. Prints
the web process's resident memory (before, peak, after each phase) and B's latencies.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from common import ROOT, SHARED, latency_summary, machine

os.environ["HF_HUB_DISABLE_XET"] = "1"  # the stand-in speaks the plain upload protocol, as in the tests
sys.path.insert(0, str(ROOT / "tests"))
from bench_web_process import OtherUser, rss_mb  # noqa: E402
from hub_standin import StandinServer  # noqa: E402
from live import call_by_fn_index, error_of, fn_index_of, free_port, launch_app, stop_app  # noqa: E402

TOKEN = "hf_standin_write_alice"


def publish(url: str, work: Path) -> None:
    """alice/bomb (a dataset) and alice/minilm-clf (a model), both public, on the stand-in."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from huggingface_hub import HfApi
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from trainer.bodies.catalog import embedded_model_dir

    data = work / "bomb"
    data.mkdir()
    chunk = pa.table({"text": ["x" * 1000] * 10_000, "label": ["a", "b"] * 5_000})
    with pq.ParquetWriter(data / "train.parquet", chunk.schema) as writer:
        for _ in range(100):
            writer.write_table(chunk)
    model = work / "minilm-clf"
    AutoModelForSequenceClassification.from_pretrained(embedded_model_dir(), num_labels=2).save_pretrained(model)
    AutoTokenizer.from_pretrained(embedded_model_dir()).save_pretrained(model)
    api = HfApi(endpoint=url, token=TOKEN)
    api.create_repo("alice/bomb", repo_type="dataset", exist_ok=True)
    api.upload_folder(folder_path=str(data), repo_id="alice/bomb", repo_type="dataset")
    small = work / "small-data"
    small.mkdir()
    pd.read_csv(work / "small.csv").to_parquet(small / "train.parquet")
    api.create_repo("alice/small", repo_type="dataset", exist_ok=True)
    api.upload_folder(folder_path=str(small), repo_id="alice/small", repo_type="dataset")
    api.create_repo("alice/minilm-clf", exist_ok=True)
    api.upload_folder(folder_path=str(model), repo_id="alice/minilm-clf")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--predictions", type=int, default=20)
    args = parser.parse_args()
    from gradio_client import Client
    from huggingface_hub import constants

    constants.HF_HUB_OFFLINE = False
    work = Path(tempfile.mkdtemp(prefix="bench-web-hub-"))
    pd.read_csv(SHARED / "ag_news" / "test.csv").head(60)[["text", "label"]].to_csv(work / "small.csv", index=False)
    with StandinServer(free_port()) as hub:
        publish(hub.url, work)
        (work / "root").mkdir()
        app, url = launch_app(work / "root", hub.url)
        try:
            other = OtherUser(url, work / "small.csv", app.pid)
            result = {"machine": machine(), "web_rss_mb": {"before": round(rss_mb(app.pid))}}
            other.start()
            index = fn_index_of(url, "Load from the Hub")
            assert not error_of(call_by_fn_index(url, index, ["alice/small", "train"]))  # the loader imported
            result["web_rss_mb"]["after_a_60_row_hub_dataset"] = round(rss_mb(app.pid))
            refusals, started = [], time.time()
            for _ in range(args.loads):
                refusals.append(error_of(call_by_fn_index(url, index, ["alice/bomb", "train"]))[:160])
            result["hub_dataset_loads"] = {"count": args.loads, "seconds": round(time.time() - started, 1),
                                           "refused_with": refusals[0], "all_refused": all(refusals)}
            result["web_rss_mb"]["after_loads"] = round(rss_mb(app.pid))
            a, started = Client(url, verbose=False), time.time()
            for i in range(args.predictions):
                a.predict([f"markets rallied on day {i}", "the team won the final"], "alice/minilm-clf", 1, False,
                          api_name="/predict")
            result["hub_model_predictions"] = {"count": args.predictions, "seconds": round(time.time() - started, 1)}
            other.stop()
            result["web_rss_mb"].update(peak=round(max(other.peak, rss_mb(app.pid))), after=round(rss_mb(app.pid)))
            result["other_user_validate_latency"] = latency_summary(other.latencies)
        finally:
            stop_app(app, work / "root")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
