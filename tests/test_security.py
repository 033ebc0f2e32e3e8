"""Reliability and security through the running app: bad input, load, isolation, paths, secrets, restarts.

Everything goes through the real HTTP API with ``gradio_client`` (the browser side is in
test_browser.py). Signed-in users are checked against the stand-in Hub (hub_standin.py).
"""

from __future__ import annotations

import re
import signal
import sqlite3
import sys
import time
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file

from conftest import ROOT
from hostile_corpus import COLUMN_HINTS, corpus
from live import UPLOAD_LIMIT_MB, call_by_fn_index, error_of, fn_index_of, launch_app, stop_app

sys.path.insert(0, str(ROOT / "bench"))
from load_predict import EXAMPLE, TOKEN, hammer, load_during_training, wait  # noqa: E402

BOB = "hf_standin_write_bob"


@pytest.fixture(scope="module")
def alice(live_app):
    return Client(live_app["url"], oauth_token=TOKEN, verbose=False)


@pytest.fixture(scope="module")
def trained(live_app):
    """Run A trained alone, run B with the same settings trained while 20 callers send 500 predictions."""
    return load_during_training(live_app["url"], callers=20, requests=500)


# --- load -------------------------------------------------------------------------------------------

def test_load_while_training(trained):
    assert trained["failed"] == 0 and trained["succeeded"] == 500, trained["failures"]
    print(f"\nload: {trained}")  # p50 / p99 for the record; speed is judged in BENCHMARKS.md, not here
    for metric in ("accuracy", "macro_f1"):
        assert abs(trained["alone"][metric] - trained["under_load"][metric]) <= 0.02, trained


# --- bad input: files and payloads ------------------------------------------------------------------

CASES = corpus()


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_malformed_file_through_api(alice, tmp_path, case):
    case_id, name, body, expected = case
    path = tmp_path / name
    path.write_bytes(body)
    text_column, label_column = COLUMN_HINTS.get(case_id, ("", ""))
    if expected is None:
        report = alice.predict(handle_file(str(path)), text_column, label_column, api_name="/validate_dataset")
        assert len(report["labels"]) >= 2 and report["split_sizes"]["train"] > 0
    else:
        with pytest.raises(Exception, match=expected):
            alice.predict(handle_file(str(path)), text_column, label_column, api_name="/validate_dataset")


def test_oversized_upload_is_refused_with_the_limit(alice, tmp_path):
    path = tmp_path / "big.csv"
    line = "a long enough review text to fill the file quickly,pos\n"
    path.write_text("text,label\n" + line * (UPLOAD_LIMIT_MB * 2**20 // len(line) + 1000))
    with pytest.raises(Exception, match=rf"{UPLOAD_LIMIT_MB} ?MB|too large|maximum"):
        alice.predict(handle_file(str(path)), "", "", api_name="/validate_dataset")


def payloads(run_id: str, model_dir: str) -> list[tuple[str, tuple, str]]:
    """(endpoint, arguments, regex of the message) for requests a client can get wrong."""
    example = handle_file(str(EXAMPLE))
    return [
        ("/validate_dataset", (None, "", ""), r"No file was sent"),
        ("/start_training", (None, "", "", {}), r"No file was sent"),
        ("/start_training", (example, "", "", "lora"), r"settings must be a JSON object"),
        ("/start_training", (example, "", "", ["epochs", 2]), r"settings must be a JSON object"),
        ("/start_training", (example, "", "", {"epochs": "many"}), r"epochs"),
        ("/start_training", (example, "", "", {"epochs": -1}), r"epochs"),
        ("/start_training", (example, "", "", {"method": "qlora"}), r"method"),
        ("/start_training", (example, "", "", {"seed": -1}), r"seed=-1.*0 to 4294967295"),
        ("/start_training", (example, "", "", {"seed": 1e30}), r"seed=.*0 to 4294967295"),
        ("/start_training", (example, "", "", {"text_column": 5}), r"text_column=5: use a column name"),
        ("/start_training", (example, "", "", {"lora_target_modules": 123}), r"lora_target_modules=123"),
        ("/start_training", (example, "", "", {"lora_target_modules": {"a": 1}}), r"lora_target_modules="),
        ("/start_training", (example, "", "", {"rm -rf /": 1}), r"Unknown setting"),
        ("/start_training", (example, "", "", {"model": "../../etc"}), r"not accepted here"),
        ("/start_training", (example, "", "", {"model": "/etc"}), r"not accepted here"),
        ("/start_training", (example, "", "", {"model": "tests"}), r"not accepted here"),
        ("/start_training", (example, "", "", {"model": model_dir}), r"not accepted here"),
        ("/start_training", (example, "no_such_column", "", {}), r"no_such_column.*not found"),
        ("/run_status", ("",), r"not a valid run id"),
        ("/run_status", ("../../../etc/passwd",), r"not a valid run id"),
        ("/run_status", ("x" * 10000,), r"not a valid run id"),
        ("/cancel_run", (run_id[:-4] + "AAAA",), r"not found among your runs"),
        ("/predict", ([], run_id, 1, False), r"No texts to classify"),
        ("/predict", ("", run_id, 1, False), r"No texts to classify"),
        ("/predict", (None, run_id, 1, False), r"texts must be a list of strings"),
        ("/predict", ([1, 2], run_id, 1, False), r"texts must be a list of strings"),
        ("/predict", ({"text": "hi"}, run_id, 1, False), r"texts must be a list of strings"),
        ("/predict", (["a"] * 5001, run_id, 1, False), r"limit is 5,000"),
        ("/predict", (["x" * 1_000_000] * 6, run_id, 1, False), r"characters in one request"),
        ("/predict", (["hi"], "", 1, False), r"Choose a model"),
        ("/predict", (["hi"], "../../etc/passwd", 1, False), r"not accepted here"),
        ("/predict", (["hi"], model_dir, 1, False), r"not accepted here"),
        ("/predict", (["hi"], "base:../../etc", 1, False), r"not a valid run id"),
        ("/predict", (["hi"], "nobody/no-such-model", 1, False), r"could not be downloaded"),
        ("/predict", (["hi"], "distilbert-base-uncased-finetuned-sst-2-english", 1, False),
         r"could not be downloaded"),  # a Hub id without a namespace is a Hub id, as in Train
        ("/push_to_hub", (run_id, "not a repo id!!", TOKEN, False, False, "apache-2.0", False), r"repo id|Repo id"),
        ("/push_to_hub", (run_id, "alice/x", "hf_not_a_real_token", False, False, "apache-2.0", False),
         r"token"),
        ("/push_to_hub", (run_id, "bob/x", TOKEN, False, False, "apache-2.0", False), r"bob"),
        ("/push_to_hub", (run_id, "alice/x", TOKEN, False, False, "no-such-license", False), r"[Ll]icense"),
    ]


def test_bad_payloads_get_specific_messages_and_change_nothing(alice, live_app, trained):
    run_id = trained["run_alone"]
    before = alice.predict(api_name="/list_runs")
    model_dir = str(live_app["root"] / "runs" / run_id / "model")
    for endpoint, args, expected in payloads(run_id, model_dir):
        with pytest.raises(Exception) as info:
            alice.predict(*args, api_name=endpoint)
        message = str(info.value)
        assert re.search(expected, message), f"{endpoint} {str(args)[:120]}: {message}"
        assert "Traceback" not in message and "Something went wrong" not in message, message
        print(f"{endpoint}: {message[:160]}")
    assert alice.predict(api_name="/list_runs") == before  # nothing stored was lost, nothing new was created
    assert alice.predict(["my card has not arrived"], run_id, 1, False, api_name="/predict")[0]["label"]


# --- isolation --------------------------------------------------------------------------------------

def test_other_users_cannot_reach_a_run(live_app, alice, trained):
    run_id = trained["run_alone"]
    assert {run_id, trained["run_loaded"]} <= {r["id"] for r in alice.predict(api_name="/list_runs")}
    same_user = Client(live_app["url"], oauth_token=TOKEN, verbose=False)  # another script of the same login
    assert same_user.predict(run_id, api_name="/run_status")["state"] == "succeeded"

    for other in (Client(live_app["url"], verbose=False), Client(live_app["url"], oauth_token=BOB, verbose=False)):
        assert run_id not in {r["id"] for r in other.predict(api_name="/list_runs")}
        for guess in (run_id, run_id[:-1] + ("A" if run_id[-1] != "A" else "B")):
            attempts = [((guess,), "/run_status"), ((guess,), "/cancel_run"),
                        ((["hello"], guess, 1, False), "/predict"), ((["hello"], f"base:{guess}", 1, False), "/predict"),
                        ((guess, "bob/stolen", BOB, False, False, "apache-2.0", False), "/push_to_hub")]
            for args, endpoint in attempts:
                with pytest.raises(Exception, match="not found among your runs"):
                    other.predict(*args, api_name=endpoint)
    assert alice.predict(run_id, api_name="/run_status")["state"] == "succeeded"  # untouched by the attempts
    assert "model:bob/stolen" not in live_app["hub"].hub.repos

    with sqlite3.connect(live_app["root"] / "registry.sqlite") as conn:
        owners = {row[0] for row in conn.execute("SELECT owner FROM runs")}
    assert all(re.fullmatch(r"hf:[\w-]+|browser:[0-9a-f]{32}|key:[0-9a-f]{32}|session:[0-9a-f]{32}", o) for o in owners), owners


# --- paths ------------------------------------------------------------------------------------------

def test_upload_file_names_cannot_leave_the_upload_folder(live_app, alice, tmp_path):
    target = Path("/tmp/classitune-escaped.csv")
    target.unlink(missing_ok=True)
    body = (EXAMPLE.read_bytes())
    for name in ("../../../../tmp/classitune-escaped.csv", "/tmp/classitune-escaped.csv", "..\\..\\classitune.csv"):
        response = httpx.post(f"{live_app['url']}/gradio_api/upload", files={"files": (name, body, "text/csv")})
        response.raise_for_status()
        stored = Path(response.json()[0])
        assert ".." not in stored.parts and not target.exists(), stored
        report = alice.predict({"path": str(stored), "meta": {"_type": "gradio.FileData"}}, "", "",
                               api_name="/validate_dataset")
        assert len(report["labels"]) == 6


# --- secrets ----------------------------------------------------------------------------------------

def test_token_never_stored_logged_or_shown(live_app, alice, trained):
    run_id = trained["run_alone"]
    responses = [alice.predict(run_id, "alice/banking-typed", TOKEN, False, False, "apache-2.0", True,
                               api_name="/push_to_hub"),
                 alice.predict(run_id, "alice/banking-signed-in", "", True, False, "apache-2.0", False,
                               api_name="/push_to_hub"),  # the signed-in user's token, sent as oauth_token
                 alice.predict(run_id, api_name="/run_status"), alice.predict(api_name="/list_runs")]
    assert responses[0]["repo_id"] == "alice/banking-typed" and len(responses[1]["commit"]) == 40
    pages = [httpx.get(live_app["url"] + path).text for path in ("/", "/config", "/gradio_api/info")]
    secret = TOKEN.encode()
    leaks = [str(p) for p in live_app["root"].rglob("*") if p.is_file() and secret in p.read_bytes()]
    assert leaks == []  # run directories, registry, app.log, train.log, the Hub cache
    assert not any(TOKEN in text for text in pages + [repr(r) for r in responses])


def test_training_worker_gets_no_token(data_root, monkeypatch):
    from trainer.config import TrainConfig
    from trainer.service import Service

    monkeypatch.setenv("HF_TOKEN", "hf_server_secret_value")
    service = Service(data_root)
    run = service.start("grace", str(EXAMPLE), TrainConfig(epochs=50))
    deadline = time.time() + 60
    while not run.status().get("pid") and time.time() < deadline:
        time.sleep(0.1)
    environ = Path(f"/proc/{run.status()['pid']}/environ").read_bytes()
    service.cancel(run.id, "grace")
    assert b"hf_server_secret_value" not in environ and b"CLASSITUNE" in environ


# --- faults: the app restarted mid-run --------------------------------------------------------------

def test_app_restart_mid_run_keeps_the_run_and_history(tmp_path, hub_standin):
    root = tmp_path / "root"
    root.mkdir()
    proc, url = launch_app(root, hub_standin.url)
    try:
        client = Client(url, oauth_token=TOKEN, verbose=False)
        run_id = client.predict(handle_file(str(EXAMPLE)), "", "", {"epochs": 1}, api_name="/start_training")
        wait(client, run_id, ("running",))
        proc.send_signal(signal.SIGKILL)  # the web server dies; the worker runs in its own session
        proc.wait(timeout=10)
        proc, url = launch_app(root, hub_standin.url)
        client = Client(url, oauth_token=TOKEN, verbose=False)  # the same user, signed in again
        assert run_id in [r["id"] for r in client.predict(api_name="/list_runs")]
        final = wait(client, run_id, ("succeeded", "failed", "interrupted", "cancelled"))
        assert final["state"] == "succeeded", final.get("error")
        assert client.predict(["my card has not arrived"], run_id, 1, False, api_name="/predict")[0]["label"]
        assert hammer(url, run_id, callers=2, requests=10)["failed"] == 0
    finally:
        stop_app(proc, root)


def test_anonymous_visitors_never_act_with_the_operators_token(tmp_path, hub_standin):
    """An app started with the operator's HF_TOKEN (no Space, no opt-in): a visitor's demo Space is refused."""
    root = tmp_path / "root"
    root.mkdir()
    proc, url = launch_app(root, hub_standin.url, HF_TOKEN="hf_standin_write_bob")
    try:
        message = call_by_fn_index(url, fn_index_of(url, "Create a demo Space"), ["bob/stolen", "", False])
        error = error_of(message)
        assert error and "No Hugging Face token" in error, message
        assert "bob" not in error.replace("bob/stolen", "")  # the operator's account is not named either
        assert "space:bob/stolen-demo" not in hub_standin.hub.repos
    finally:
        stop_app(proc, root)


READERS = {"on_file", "drop_rows", "validate", "load_hub_dataset", "validate_dataset", "find", "find_label_errors"}


def test_every_event_that_reads_a_file_shares_the_intake_slots(data_root):
    """Reading a file is the web process's largest allocation: uploads, validation, the Hub box and the
    validate_dataset endpoint together run at most CLASSITUNE_INTAKE_CONCURRENCY (default 2) at a time."""
    from space import ui

    readers = [f for f in ui.build_app().fns.values()
               if f.name in READERS]
    assert {f.name for f in readers} == READERS
    assert {(f.concurrency_id, f.concurrency_limit) for f in readers} == {("intake", 2)}


def test_data_tab_token_lengths_refuse_local_model_paths(data_root):
    from trainer.errors import UserError
    from trainer.service import Service

    service = Service(data_root)
    for name in ("/etc", "../..", "tests"):
        with pytest.raises(UserError, match="not accepted here"):
            service.validate(str(EXAMPLE), model=name)
    assert service.validate(str(EXAMPLE), model="default").report.length["suggested_max_length"] > 0


def test_hub_dataset_box_cannot_read_local_folders(live_app, alice, trained):
    """The private "Load from the Hub" event, called raw by fn_index with folder paths, returns no rows of anyone's."""
    root, run_id = live_app["root"], trained["run_alone"]
    index = fn_index_of(live_app["url"], "Load from the Hub")
    for dataset_id in (str(root / "runs" / run_id / "data"), str(root / "runs"), str(root), "../runs", "csv", "tests"):
        for split in ("train", "validation"):
            message = call_by_fn_index(live_app["url"], index, [dataset_id, split])
            error = error_of(message)
            assert error, (dataset_id, str(message)[:300])
            assert "not a Hugging Face Hub dataset id" in error and "Traceback" not in error, error
            assert not any("runs" in str(v) for v in message["output"]["data"][:-1])  # no file link came back
    message = call_by_fn_index(live_app["url"], index, ["someone/some-dataset", "../../train"])
    assert "not a split name" in error_of(message)


def test_gradio_run_history_routes_are_off(live_app):
    """Issue 32 (8): Gradio's run-history routes act with the machine's saved Hugging Face token for any request that
    looks local (loopback client and Host), which a same-host reverse proxy makes every visitor's; the app turns them
    off, so they answer 404 to such requests."""
    for path in ("/gradio_api/runs", "/gradio_api/run-history/buckets", "/gradio_api/run-history/records?bucket=u/b"):
        for host in ("127.0.0.1", "localhost"):
            response = httpx.get(live_app["url"] + path, headers={"Host": host})
            assert response.status_code == 404, (path, host, response.status_code)
