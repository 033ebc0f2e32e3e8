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
