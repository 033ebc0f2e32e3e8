"""Batch prediction jobs through the running app: 200,000 texts from a Parquet file while another user's instant
Predict keeps answering, a private Hub dataset read with its owner's sign-in, and the same over MCP. The Hub is the
stand-in (tests/hub_standin.py); a tiny model stands in for speed."""

from __future__ import annotations

import asyncio
import base64
import json
import statistics
import time

import pandas as pd
import pytest
from gradio_client import Client, handle_file

from live import launch_app, stop_app
from test_mcp import _session, _text as text
from tiny import tiny_classifier

ALICE, BOB = "hf_standin_write_alice", "hf_standin_write_bob"
MODEL = "carol/tiny-public"


@pytest.fixture(scope="module")
def app(tmp_path_factory, hub_standin):
    from huggingface_hub import HfApi, constants

    folder = tmp_path_factory.mktemp("batch-live")
    offline, constants.HF_HUB_OFFLINE = constants.HF_HUB_OFFLINE, False
    try:
        api = HfApi(endpoint=hub_standin.url, token="hf_standin_write_carol")
        api.create_repo(MODEL, exist_ok=True)
        api.upload_folder(folder_path=str(tiny_classifier(folder / "tiny")), repo_id=MODEL)
        data = folder / "corpus"
        data.mkdir()
        corpus(20_000).to_csv(data / "train.csv", index=False)
        api = HfApi(endpoint=hub_standin.url, token=ALICE)
        api.create_repo("alice/corpus", repo_type="dataset", private=True, exist_ok=True)
        api.upload_folder(folder_path=str(data), repo_id="alice/corpus", repo_type="dataset")
    finally:
        constants.HF_HUB_OFFLINE = offline
    root = folder / "root"
    root.mkdir()
    proc, url = launch_app(root, hub_standin.url)
    yield {"url": url, "folder": folder, "hub": hub_standin}
    stop_app(proc, root)


def corpus(rows: int) -> pd.DataFrame:
    words = "the card has arrived my film was good bad not dull great movie".split()
    return pd.DataFrame({"id": range(rows), "text": [" ".join(words[(i * 5 + k) % len(words)] for k in range(1 + i % 11))
                                                     for i in range(rows)]})


def follow(client: Client, job_id: str, seconds: float = 900) -> dict:
    deadline = time.time() + seconds
    while time.time() < deadline:
        status = client.predict(job_id, api_name="/batch_prediction_status")
        if status["state"] not in ("queued", "running"):
            return status
        time.sleep(1)
    raise AssertionError(f"the job did not finish: {status}")


def test_200000_texts_in_the_background_while_another_user_predicts(app):
    path = app["folder"] / "big.parquet"
    corpus(200_000).to_parquet(path)
    alice, bob = Client(app["url"], oauth_token=ALICE, verbose=False), Client(app["url"], oauth_token=BOB, verbose=False)
    job = alice.predict(handle_file(str(path)), MODEL, "text", "", "train", api_name="/start_batch_prediction")
    assert job["state"] in ("queued", "running"), job
    latencies = []
    while alice.predict(job["job_id"], api_name="/batch_prediction_status")["state"] in ("queued", "running"):
        started = time.perf_counter()
        answer = bob.predict(["the film was good"], MODEL, 1, False, api_name="/predict")
        latencies.append(time.perf_counter() - started)
        assert answer[0]["label"] in ("neg", "pos")
        time.sleep(0.5)
    status = follow(alice, job["job_id"])
    assert status["state"] == "succeeded" and status["rows_done"] == 200_000, status
    print(f"\nBob's Predict during Alice's 200,000-text job: median {statistics.median(latencies) * 1000:.0f} ms, "
          f"max {max(latencies) * 1000:.0f} ms over {len(latencies)} calls; job speed {status['rows_per_second']} rows/s")
    with pytest.raises(Exception, match="No batch job"):
        bob.predict(job["job_id"], api_name="/batch_prediction_status")
    with pytest.raises(Exception, match="No batch job"):
        bob.predict(job["job_id"], api_name="/batch_prediction_result")
    out = pd.read_parquet(alice.predict(job["job_id"], api_name="/batch_prediction_result"))
    assert out["id"].tolist() == list(range(200_000)) and set(out["predicted_label"]) <= {"neg", "pos"}


def test_a_private_hub_dataset_is_read_with_its_owners_sign_in_only(app):
    anonymous = Client(app["url"], verbose=False)
    job = anonymous.predict(None, MODEL, "text", "alice/corpus", "train", api_name="/start_batch_prediction")
    status = follow(anonymous, job["job_id"])
    assert status["state"] == "failed" and "Could not load 'alice/corpus'" in status["error"]
    failed = job["job_id"]
    alice = Client(app["url"], oauth_token=ALICE, verbose=False)
    job = alice.predict(None, MODEL, "text", "alice/corpus", "train", api_name="/start_batch_prediction")
    assert follow(alice, job["job_id"])["state"] == "succeeded"
    out = pd.read_parquet(alice.predict(job["job_id"], api_name="/batch_prediction_result"))
    assert out["id"].tolist() == list(range(20_000)) and "predicted_label" in out
    # ... and pushed back to the Hub as a private dataset with a card naming the model, with her own token only
    with pytest.raises(Exception, match="No batch job"):  # another user, even with a token of their own
        anonymous.predict(job["job_id"], "alice/x", BOB, True, api_name="/push_batch_result")
    with pytest.raises(Exception, match="once it succeeds"):
        anonymous.predict(failed, "anon/x", "", True, api_name="/push_batch_result")
    pushed = alice.predict(job["job_id"], "alice/corpus-predictions", "", True, api_name="/push_batch_result")
    assert pushed["repo_id"] == "alice/corpus-predictions"
    repo = app["hub"].hub.repos["dataset:alice/corpus-predictions"]
    assert repo["private"] and MODEL in repo["files"]["README.md"].decode()
    assert "data/alice__corpus-train-predictions.parquet" in repo["files"]


def test_batch_jobs_over_mcp_belong_to_their_caller(app):
    data = "data:text/csv;base64," + base64.b64encode(corpus(3000).to_csv(index=False).encode()).decode()

    async def alice(s):
        started = await s.call_tool("start_batch_prediction", {"file": data, "model": MODEL, "text_column": "text"})
        assert not started.isError, text(started)
        job_id = json.loads(text(started).replace("'", '"').replace("None", "null"))["job_id"]
        for _ in range(300):
            status = await s.call_tool("batch_prediction_status", {"job_id": job_id})
            if "'succeeded'" in text(status):
                break
            await asyncio.sleep(1)
        result = await s.call_tool("batch_prediction_result", {"job_id": job_id})
        return job_id, status, result

    job_id, status, result = asyncio.run(_session(app["url"], alice, {"Authorization": "Bearer mcp-alice-batch-1"}))
    assert "'succeeded'" in text(status) and not result.isError, text(result)
    assert "predictions.csv" in json.dumps([c.model_dump() for c in result.content])

    async def bob(s):
        return (await s.call_tool("batch_prediction_status", {"job_id": job_id}),
                await s.call_tool("cancel_batch_prediction", {"job_id": job_id}))

    status, cancel = asyncio.run(_session(app["url"], bob, {"Authorization": "Bearer mcp-bob-batch-key-2"}))
    assert status.isError and "No batch job" in text(status) and cancel.isError
