"""Publishing against a local stand-in of the Hub: the real huggingface_hub client, unmodified, over HTTP."""

import hashlib
import json
import os
import subprocess
import sys

import pytest
from huggingface_hub import HfApi, ModelCard, hf_hub_download
from huggingface_hub.errors import RepositoryNotFoundError

from conftest import ROOT, free_port
from hub_standin import StandinServer
from trainer.config import TrainConfig
from trainer.intake.data import load_dataset_file
from trainer.errors import UserError
from trainer.hub.demo_space import create_demo_space
from trainer.hub.publish import PublishOptions, default_repo_id, push
from trainer.runs.store import Run
from trainer.training.train import run_training

WRITE, READ, BOB = "hf_standin_write_alice", "hf_standin_read_alice", "hf_standin_write_bob"


@pytest.fixture(scope="module")
def hub():
    """The stand-in on a local port; offline mode (set for the rest of the suite) is lifted for it."""
    from huggingface_hub import constants

    offline, constants.HF_HUB_OFFLINE = constants.HF_HUB_OFFLINE, False
    with StandinServer(free_port()) as server:
        yield server
    constants.HF_HUB_OFFLINE = offline


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    intake = load_dataset_file(ROOT / "assets" / "banking77_sample.csv")
    run = Run(tmp_path_factory.mktemp("runs") / "run")
    run.dir.mkdir()
    run.update_status(state="queued", dataset="banking77_sample.csv", model="default", method="lora")
    for name, data in (("labels.json", intake.labels), ("data_report.json", intake.report.to_dict())):
        run.path(name).write_text(json.dumps(data))
    config = TrainConfig(method="lora", epochs=1, evals_per_epoch=1, max_length=32, pooling="cls")  # adapters need it
    run.path("config.json").write_text(json.dumps(config.to_dict()))
    assert run_training(run, config, intake.train, intake.validation, intake.labels)["state"] == "succeeded"
    return run


def tree_digest(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def as_a_stranger(hub, script: str, folder) -> subprocess.CompletedProcess:
    """Run a script in a fresh process whose Hub is the stand-in, with no token and an empty cache."""
    env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HUB_OFFLINE": "0", "HF_HOME": str(folder / "hf-home"),
           "HF_HUB_DISABLE_XET": "1", "HF_TOKEN": ""}
    remote = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=folder)
    assert remote.returncode == 0, remote.stderr[-2000:]
    return remote


def test_push_card_and_load_back(hub, run, tmp_path):
    repo_id = default_repo_id("alice", run)
    assert repo_id == "alice/banking77_sample-all-MiniLM-L6-v2-lora"
    result = push(run, PublishOptions(repo_id=repo_id), WRITE, endpoint=hub.url)
    assert result["url"] == f"{hub.url}/{repo_id}" and len(result["commit"]) == 40

    card = ModelCard.load(hf_hub_download(repo_id, "README.md", endpoint=hub.url, token=WRITE,
                                          cache_dir=tmp_path / "cache"))
    assert card.data.base_model == "sentence-transformers/all-MiniLM-L6-v2"
    assert card.data.pipeline_tag == "text-classification" and card.data.library_name == "transformers"
    assert card.data.license == "apache-2.0" and "lora" in card.data.tags
    results = {r.metric_type: r.metric_value for r in card.data.eval_results}
    assert results["accuracy"] == pytest.approx(run.status()["best"]["accuracy"], abs=1e-4)
    assert getattr(card.data, "widget", None) is None  # the user's texts are not published unless they opt in
    for section in ("## Usage", "## Data", "## Training", "## Results", "quick baseline", "Confusion matrix",
                    "## Limitations", f'pipeline("text-classification", model="{repo_id}")'):
        assert section in card.text, section

    # A stranger loads it with one line of transformers, from the stand-in, and gets the local predictions.
    script = ("import json, sys\nfrom transformers import pipeline\n"
              f"c = pipeline('text-classification', model='{repo_id}')\n"
              "print(json.dumps([r['label'] for r in c(['my card has not arrived', 'what is the exchange rate', "
              "'my pin is blocked'])]))")
    remote = as_a_stranger(hub, script, tmp_path)
    local = subprocess.run([sys.executable, "-c", script.replace(repo_id, str(run.model_dir))],
                           capture_output=True, text=True, cwd=tmp_path)
    assert json.loads(remote.stdout.splitlines()[-1]) == json.loads(local.stdout.splitlines()[-1])


def test_push_again_is_a_new_commit_and_private_and_adapter(hub, run, tmp_path):
    options = PublishOptions(repo_id="alice/private-adapter", private=True, adapter_only=True, widget_examples=True)
    first = push(run, options, WRITE, endpoint=hub.url)
    second = push(run, options, WRITE, endpoint=hub.url)
    assert first["commit"] != second["commit"]
    repo = hub.hub.repos["model:alice/private-adapter"]
    assert repo["private"] and len(repo["commits"]) == 2
    assert "adapter_config.json" in repo["files"] and "model.safetensors" not in repo["files"]
    card = ModelCard(repo["files"]["README.md"].decode())
    assert card.data.library_name == "peft" and len(card.data.widget) == 3
    with pytest.raises(RepositoryNotFoundError):  # invisible to another user
        HfApi(endpoint=hub.url, token=BOB).model_info("alice/private-adapter")


@pytest.mark.parametrize("token, repo_id, message", [
    ("hf_not_a_real_token_0000", "alice/x", "rejected the token"),
    (READ, "alice/x", "read-only"),
    (WRITE, "bob/x", "cannot push to 'bob'"),
    (WRITE, "alice/bad--name", "would reject the repo id"),
    (None, "alice/x", "No Hugging Face token"),
])
def test_push_errors_are_specific_and_leave_the_run_intact(hub, run, token, repo_id, message):
    before = tree_digest(run.dir)
    with pytest.raises(UserError, match=message):
        push(run, PublishOptions(repo_id=repo_id), token, endpoint=hub.url)
    assert tree_digest(run.dir) == before


def test_network_failure_is_retryable(hub, run):
    with pytest.raises(UserError, match="Could not reach the Hugging Face Hub.*retried"):
        push(run, PublishOptions(repo_id="alice/x"), WRITE, endpoint=f"http://127.0.0.1:{free_port()}")


def test_demo_space(hub, run):
    push(run, PublishOptions(repo_id="alice/demo-model"), WRITE, endpoint=hub.url)
    result = create_demo_space("alice/demo-model", WRITE, endpoint=hub.url)
    assert result["url"] == f"{hub.url}/spaces/alice/demo-model-demo"
    files = hub.hub.repos["space:alice/demo-model-demo"]["files"]
    assert set(files) == {"app.py", "requirements.txt", "README.md"}
    assert 'model="alice/demo-model"' in files["app.py"].decode()
    assert "sdk: gradio" in files["README.md"].decode()
    compile(files["app.py"].decode(), "app.py", "exec")


def test_baseline_in_setfit_format_loads_from_the_hub_and_its_demo_space_runs(hub, run, tmp_path):
    """The quick baseline, pushed in SetFit format: a stranger loads it with SetFit, and the demo app serves it."""
    from trainer.predict import BaselineClassifier

    push(run, PublishOptions(repo_id="alice/baseline-model", model="baseline"), WRITE, endpoint=hub.url)
    create_demo_space("alice/baseline-model", WRITE, endpoint=hub.url)
    files = hub.hub.repos["space:alice/baseline-model-demo"]["files"]
    assert "setfit==" in files["requirements.txt"].decode()
    (tmp_path / "app.py").write_bytes(files["app.py"])
    script = ("import json, gradio as gr\ngr.Interface.launch = lambda self, *a, **k: None  # serve nothing\n"
              "exec(open('app.py').read())\n"
              "print(json.dumps([max((s := classify(t)), key=s.get) for t in "
              "['my card has not arrived', 'what is the exchange rate', 'my pin is blocked']]))")
    remote = as_a_stranger(hub, script, tmp_path)
    local = BaselineClassifier(str(run.dir)).predict(["my card has not arrived", "what is the exchange rate",
                                                      "my pin is blocked"], top_k=1)
    assert json.loads(remote.stdout.splitlines()[-1]) == [r["label"] for r in local]

    push(run, PublishOptions(repo_id="alice/baseline-model", model="tuned"), WRITE, endpoint=hub.url)  # switch
    files = hub.hub.repos["model:alice/baseline-model"]["files"]
    assert "model_head.pkl" not in files and "config_setfit.json" not in files and "config.json" in files
    create_demo_space("alice/baseline-model", WRITE, endpoint=hub.url)
    assert "pipeline(" in hub.hub.repos["space:alice/baseline-model-demo"]["files"]["app.py"].decode()


def test_cli_dry_run_writes_the_upload_folder(run, tmp_path):
    out = tmp_path / "upload"
    result = subprocess.run([sys.executable, "-m", "trainer", "push", "--run", str(run.dir), "--repo", "alice/dry",
                             "--dry-run", "--output", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert {p.name for p in out.iterdir()} >= {"README.md", "config.json", "model.safetensors", "tokenizer.json"}
    for which, marker in (("baseline", "config_setfit.json"), ("tuned", "tokenizer_config.json")):
        folder = tmp_path / which
        result = subprocess.run([sys.executable, "-m", "trainer", "push", "--run", str(run.dir), "--repo", "alice/dry",
                                 "--model", which, "--dry-run", "--output", str(folder)], capture_output=True,
                                text=True, cwd=ROOT)
        assert result.returncode == 0, result.stderr
        assert (folder / marker).exists() and (which == "baseline") == (folder / "model_head.pkl").exists()


def test_token_is_written_nowhere(hub, run, tmp_path):
    push(run, PublishOptions(repo_id="alice/secret-check"), WRITE, endpoint=hub.url)
    for folder in (run.dir, tmp_path):
        for path in folder.rglob("*"):
            if path.is_file():
                assert WRITE.encode() not in path.read_bytes(), path
    for repo in hub.hub.repos.values():
        for name, data in repo["files"].items():
            assert WRITE.encode() not in data, name
