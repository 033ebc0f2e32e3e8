"""Shared by the benchmarks: real data slices and a machine description."""

from __future__ import annotations

import os
import statistics
import sys
import platform
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CLASSITUNE_SHARED_DATASETS", ROOT.parent / "shared" / "datasets"))


def sst2(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``rows`` shuffled SST-2 training sentences and the official 872-sentence dev set."""
    train = pd.read_csv(SHARED / "sst2" / "train.csv").sample(frac=1.0, random_state=seed).head(rows)
    return train.reset_index(drop=True), pd.read_csv(SHARED / "sst2" / "validation.csv")


def rotten_tomatoes(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``rows`` shuffled Rotten Tomatoes training reviews and the official 1,066-review validation split."""
    train = pd.read_csv(SHARED / "rotten_tomatoes" / "train.csv").sample(frac=1.0, random_state=seed).head(rows)
    return train.reset_index(drop=True), pd.read_csv(SHARED / "rotten_tomatoes" / "validation.csv")


def machine() -> str:
    import torch

    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}"
    return f"CPU {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}"


def latency_summary(seconds: list[float]) -> str:
    """Median, 95th percentile and worst of request latencies, in milliseconds."""
    values = sorted(seconds)
    return (f"median {statistics.median(values) * 1000:.0f} ms, p95 {values[int(0.95 * (len(values) - 1))] * 1000:.0f}"
            f" ms, max {values[-1] * 1000:.0f} ms ({len(values)} calls)")
