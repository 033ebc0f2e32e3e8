"""Shared fixtures: the real datasets beside the repository, small real slices, a data root per test."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CLASSITUNE_SHARED_DATASETS", ROOT.parent / "shared" / "datasets"))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_XET", "1")  # the stand-in Hub speaks the LFS protocol, not Xet


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


@pytest.fixture
def data_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "root"
    monkeypatch.setenv("CLASSITUNE_DATA_ROOT", str(root))
    return root


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The real app (``python app.py``) on a free port with its own data root; yields its URL and root."""
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    root = tmp_path_factory.mktemp("app-root")
    port = free_port()
    env = {**os.environ, "CLASSITUNE_DATA_ROOT": str(root), "HF_HUB_OFFLINE": "1"}
    log = open(root / "app.log", "w")
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--mcp"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError((root / "app.log").read_text())
            time.sleep(0.5)
    else:
        raise RuntimeError("The app did not start in 60 s:\n" + (root / "app.log").read_text())
    yield {"url": url, "root": root, "proc": proc}
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=20)
    subprocess.run(["pkill", "-f", str(root)], check=False)  # any worker still running under this root
