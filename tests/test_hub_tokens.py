"""Whose token the app's Hub requests carry (trainer/hub_auth.py): the caller's own, or none; never the
operator's ``HF_TOKEN``. Runs the real app against the Hub stand-in, which records every request's token."""

from __future__ import annotations

import pytest
from gradio_client import Client

from live import call_by_fn_index, error_of, fn_index_of, launch_app, stop_app
from tiny import tiny_classifier

pytestmark = pytest.mark.quick  # the quick tier (README: Tests)

OPERATOR, ALICE = "hf_standin_write_bob", "hf_standin_write_alice"


@pytest.fixture
def private_repos(tmp_path, hub_standin):
    """The operator's private model and dataset, and a private model of Alice's, on the stand-in."""
    from huggingface_hub import HfApi, constants

    offline, constants.HF_HUB_OFFLINE = constants.HF_HUB_OFFLINE, False
    try:
        model = tiny_classifier(tmp_path / "tiny")
        data = tmp_path / "data"
        data.mkdir()
        (data / "train.csv").write_text("text,label\nsecret one,a\nsecret two,b\n")
        for token, repo in ((OPERATOR, "bob/private-clf"), (ALICE, "alice/own-clf")):
            api = HfApi(endpoint=hub_standin.url, token=token)
            api.create_repo(repo, private=True, exist_ok=True)
            api.upload_folder(folder_path=str(model), repo_id=repo)
        api = HfApi(endpoint=hub_standin.url, token=OPERATOR)
        api.create_repo("bob/private-data", repo_type="dataset", private=True, exist_ok=True)
        api.upload_folder(folder_path=str(data), repo_id="bob/private-data", repo_type="dataset")
    finally:
        constants.HF_HUB_OFFLINE = offline
    return hub_standin


def test_visitors_read_the_hub_with_their_own_token_or_none(tmp_path, private_repos):
    hub = private_repos.hub
    root = tmp_path / "root"
    root.mkdir()
    proc, url = launch_app(root, private_repos.url, HF_TOKEN=OPERATOR)
    try:
        hub.seen_tokens.clear()
        visitor = Client(url, verbose=False)
        with pytest.raises(Exception, match="could not be downloaded"):
            visitor.predict(["good film"], "bob/private-clf", 1, False, api_name="/predict")
        message = call_by_fn_index(url, fn_index_of(url, "Load from the Hub"), ["bob/private-data", "train"])
        assert error_of(message) and "Could not load" in error_of(message), message
        assert "secret" not in str(message["output"]["data"][:-1])
        # Alice, signed in, reads her own private model with her own token.
        alice = Client(url, oauth_token=ALICE, verbose=False)
        result = alice.predict(["good film"], "alice/own-clf", 1, False, api_name="/predict")
        assert result[0]["label"] in ("neg", "pos")
        assert hub.seen_tokens, "the app never asked the Hub"
        assert OPERATOR not in hub.seen_tokens, "a visitor's request carried the operator's token"
        assert ALICE in hub.seen_tokens
        # Loaded once, then shared from memory: a second call makes no Hub request.
        asked = len(hub.seen_tokens)
        assert alice.predict(["dull"], "alice/own-clf", 1, False, api_name="/predict")[0]["label"]
        assert len(hub.seen_tokens) == asked
    finally:
        stop_app(proc, root)


def test_hub_models_over_the_size_limit_are_refused_before_download(tmp_path, private_repos, monkeypatch):
    from huggingface_hub import constants

    from trainer.errors import UserError
    from trainer.hub.hub_models import hub_classifier

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", private_repos.url)
    monkeypatch.setenv("CLASSITUNE_MAX_HUB_MODEL_MB", "0.01")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    with pytest.raises(UserError, match="MB of weights; this app loads Hub models of up to"):
        hub_classifier("alice/own-clf", ALICE)
    assert not any((tmp_path / "hf-home").rglob("*.safetensors"))


def test_a_rejected_token_is_asked_of_the_hub_once_a_minute_not_per_request(monkeypatch):
    from space import common

    from trainer.errors import UserError

    asked = []

    def whoami(token, endpoint=None):
        asked.append(token)
        raise UserError("The Hub rejected the token (invalid or expired).")

    monkeypatch.setattr("trainer.hub.client.whoami", whoami)
    for _ in range(5):
        with pytest.raises(UserError, match="rejected the token"):
            common.token_user("hf_bogus_token_for_this_test")
    assert len(asked) == 1


def test_hub_datasets_load_in_a_process_of_their_own_within_the_limits(tmp_path, private_repos, monkeypatch):
    """Issue 32 (5): the streaming reader keeps ~170 MB of a refused bomb in the process that read it
    (bench/bench_web_hub.py), so the app reads Hub datasets in a child process: never in the web process."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
    from huggingface_hub import HfApi

    import trainer.intake.hub_data as hub_data
    from trainer.errors import UserError
    from trainer.service import Service

    bomb = tmp_path / "bomb"
    bomb.mkdir()
    chunk = pa.table({"text": ["x" * 1000] * 10_000, "label": ["a", "b"] * 5_000})
    with pq.ParquetWriter(bomb / "train.parquet", chunk.schema) as writer:
        for _ in range(10):  # 100 MB of text in well under 1 MB
            writer.write_table(chunk)
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    api = HfApi(endpoint=private_repos.url, token=OPERATOR)
    api.create_repo("bob/bomb", repo_type="dataset", exist_ok=True)
    api.upload_folder(folder_path=str(bomb), repo_id="bob/bomb", repo_type="dataset")
    for name, value in (("HF_ENDPOINT", private_repos.url), ("HF_HUB_OFFLINE", "0"), ("HF_HUB_DISABLE_XET", "1"),
                        ("HF_HOME", str(tmp_path / "hf-home")), ("CLASSITUNE_MAX_UPLOAD_MB", "5")):
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(hub_data, "fetch_hub_dataset", lambda *a, **k: pytest.fail("read in the web process"))
    service, folder = Service(tmp_path / "root"), tmp_path / "out"
    folder.mkdir()
    with pytest.raises(UserError, match="holds more than 5 MB of data, the upload limit"):
        service.load_hub_dataset("bob/bomb", "train", folder)
    path = service.load_hub_dataset("bob/private-data", "train", folder, token=OPERATOR)  # the owner's own token
    assert pd.read_parquet(path)["text"].tolist() == ["secret one", "secret two"]
    with pytest.raises(UserError, match="Could not load 'bob/private-data'"):
        service.load_hub_dataset("bob/private-data", "train", folder, token=ALICE)  # not hers
