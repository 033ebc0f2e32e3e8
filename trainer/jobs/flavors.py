"""The Hugging Face Jobs hardware a run can train on, with its list price (billed per minute to the user).

Prices are Hugging Face's published hourly rates for Jobs and Spaces hardware (2025); the Hub bills the minutes a
job actually runs. ``speed`` is a rough training speed relative to the 2-core CPU the benchmarks ran on (BENCHMARKS.md),
for a time and cost estimate before Start; the run then measures its real speed.
"""

from __future__ import annotations

from dataclasses import dataclass

HERE = "here"


@dataclass(frozen=True)
class Flavor:
    name: str
    label: str
    usd_per_hour: float
    device: str  # "cpu" or "cuda"
    speed: float  # training speed relative to the 2-core benchmark CPU


FLAVORS = {f.name: f for f in (
    Flavor("cpu-upgrade", "8 vCPU, 32 GB", 0.03, "cpu", 3.0),
    Flavor("t4-small", "NVIDIA T4, 16 GB", 0.40, "cuda", 15.0),
    Flavor("l4x1", "NVIDIA L4, 24 GB", 0.80, "cuda", 30.0),
    Flavor("a10g-small", "NVIDIA A10G, 24 GB", 1.00, "cuda", 35.0),
    Flavor("a100-large", "NVIDIA A100, 80 GB", 2.50, "cuda", 80.0),
)}


def describe(name: str, local_seconds: float | None) -> str:
    """"t4-small (NVIDIA T4, 16 GB) · $0.40/h · about 2 min, about $0.02" from the run's estimate on the benchmark
    CPU; without an estimate, the price alone."""
    flavor = FLAVORS[name]
    text = f"{name} ({flavor.label}) · ${flavor.usd_per_hour:.2f}/h"
    if not local_seconds:
        return text
    seconds = 60 + local_seconds / flavor.speed  # a minute to start the job and load the model
    return f"{text} · about {max(1, round(seconds / 60))} min, about ${flavor.usd_per_hour * seconds / 3600:.2f}"
