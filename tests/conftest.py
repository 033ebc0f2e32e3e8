"""Shared fixtures: the real datasets beside the repository, small real slices, a data root per test."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from hub_standin import StandinServer
from live import free_port, launch_app, stop_app  # noqa: F401 (free_port is imported from here by tests)

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CLASSITUNE_SHARED_DATASETS", ROOT.parent / "shared" / "datasets"))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_XET", "1")  # the stand-in Hub speaks the LFS protocol, not Xet
# No offline bodies (scripts/get_mpnet.py) unless a test installs one: model=auto sees the embedded default only.
os.environ.setdefault("CLASSITUNE_BODIES_DIR", str(ROOT / "tests" / "no-bodies"))
if workers := int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0")):
    # Test processes share the cores (test.sh runs one per core and one more): each, and every app, worker and command it
    # starts, uses its share of threads. Two 2-thread trainings on 2 cores ran 3-4x slower than alone; two
    # 1-thread ones take 1.2x one 2-thread run. Set before torch is imported anywhere.
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // workers)))

# Files with the longest trainings start first, so that two workers finish together (test.sh: --dist loadfile).
LONGEST_FIRST = ("test_worker.py", "test_training.py", "test_multilabel.py", "test_security.py",
                 "test_browser_ui.py", "test_small_data.py")


def pytest_collection_modifyitems(items: list) -> None:
    order = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: order.get(item.path.name, len(order)))  # stable: the rest keep their order


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"The shared datasets are missing at {SHARED}; CI runs with ../shared beside the repository.")
    return SHARED


def real_slice(shared: Path, name: str, rows: int, path: Path, seed: int = 0, split: str = "train") -> Path:
    """A shuffled, balanced-ish slice of a real dataset written as CSV (some files are grouped by label)."""
    frame = pd.read_csv(shared / name / f"{split}.csv").sample(frac=1.0, random_state=seed).head(rows)
    frame[["text", "label"]].to_csv(path, index=False)
    return path


@pytest.fixture(autouse=True)
def close_supervisors():
    """Every Service a test starts has a supervisor thread (and maybe a standby worker), maybe a batch-job watcher:
    stopped after the test."""
    from trainer.batch.jobs import BatchJobs
    from trainer.runs.supervisor import Supervisor

    before, batches = set(Supervisor.opened), len(BatchJobs.opened)
    yield
    for supervisor in set(Supervisor.opened) - before:
        supervisor.close()
    for watcher in BatchJobs.opened[batches:]:
        watcher.close()


@pytest.fixture
def data_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "root"
    monkeypatch.setenv("CLASSITUNE_DATA_ROOT", str(root))
    return root


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    """A tiny random BERT folder (tests/tiny.py) for tests of processes and conventions, not of learning."""
    from tiny import tiny_classifier

    return str(tiny_classifier(tmp_path_factory.mktemp("tiny") / "tiny"))


@pytest.fixture(scope="session")
def hub_standin():
    """A local stand-in of the Hugging Face Hub (real HTTP protocol; see hub_standin.py), for the app's logins."""
    with StandinServer(free_port()) as server:
        yield server


@pytest.fixture
def on_standin(hub_standin, monkeypatch, tmp_path):
    """The Hub client and the job followers pointed at the stand-in, polling fast (tests of Hugging Face Jobs)."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", hub_standin.url)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", hub_standin.url + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("CLASSITUNE_JOB_IMAGE", "classitune:test")
    monkeypatch.setattr("trainer.jobs.follow.POLL_SECONDS", 0.5)
    return hub_standin


@pytest.fixture(scope="session")
def live_app(tmp_path_factory, hub_standin):
    """The real app (``python app.py``) on a free port with its own data root; yields its URL and root.

    Its Hub is the local stand-in (nothing can reach the internet), so logins and pushes work in tests.
    """
    root = tmp_path_factory.mktemp("app-root")
    proc, url = launch_app(root, hub_standin.url)
    yield {"url": url, "root": root, "proc": proc, "hub": hub_standin}
    stop_app(proc, root)
