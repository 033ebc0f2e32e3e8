"""What the machine can do, and the training settings that follow from it."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields


ZEROGPU = "ZeroGPU slot"
ZEROGPU_MEMORY_GB = 70.0  # the smallest slot the Hub has documented


@dataclass
class Hardware:
    device: str  # "cuda" or "cpu"
    name: str
    memory_gb: float | None
    cpu_cores: int
    bf16: bool
    gpu_count: int

    def describe(self) -> str:
        if self.name == ZEROGPU:
            return (f"GPU: a ZeroGPU slot per run (a slice of a data-centre GPU, {self.memory_gb:.0f} GB or more), "
                    f"trains in bf16; outside a slot this Space has {self.cpu_cores} CPU cores and no GPU")
        if self.device == "cuda":
            precision = "bf16" if self.bf16 else "fp16 with loss scaling (no native bf16)"
            return (f"GPU: {self.name} ({self.memory_gb:.0f} GB), {self.gpu_count} device(s), trains in {precision}; "
                    f"{self.cpu_cores} CPU cores")
        return f"CPU only: {self.cpu_cores} cores (no GPU found); training uses fp32"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, probed: dict) -> "Hardware":
        """From ``python -m trainer hardware``'s JSON (the web server probes in a subprocess); CPU if unknown."""
        try:
            return cls(**{f.name: probed[f.name] for f in fields(cls)})
        except (KeyError, TypeError):
            return cls("cpu", "CPU", None, os.cpu_count() or 1, False, 0)


def detect() -> Hardware:
    """Probe the hardware. Initialises CUDA, so the web server calls it in a subprocess only.

    On ZeroGPU the GPU exists only inside a ``spaces.GPU`` slot, so a probe outside one finds none: it answers
    with what a slot gives (the Hub documents a 70 GB H200 slice, more recently a Blackwell GPU), so the Train tab
    and the plan show the hardware the run will train on, not "CPU only"."""
    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if not torch.cuda.is_available() and os.environ.get("SPACES_ZERO_GPU", "").lower() in ("1", "true"):
        return Hardware("cuda", ZEROGPU, ZEROGPU_MEMORY_GB, cores, True, 1)
    if os.environ.get("SM_NUM_GPUS") == "0" or not torch.cuda.is_available():
        return Hardware("cpu", "CPU", None, cores, False, 0)
    props = torch.cuda.get_device_properties(0)
    # Native bf16 needs compute capability 8.0 (Ampere) or later; ``is_bf16_supported()`` also answers True where
    # bf16 is only emulated (T4, V100: the cheapest GPU Spaces), which trains far slower than fp16 there.
    native_bf16 = torch.cuda.get_device_capability(0) >= (8, 0)
    return Hardware("cuda", props.name, props.total_memory / 1024**3, cores, native_bf16, torch.cuda.device_count())


def precision_for(hw: Hardware, requested: str = "auto") -> str:
    """bf16 where supported, fp16 on older GPUs, fp32 on CPU (CPU autocast is slower than fp32 here)."""
    if requested != "auto":
        return requested
    if hw.device != "cuda":
        return "fp32"
    return "bf16" if hw.bf16 else "fp16"


def batch_size_for(hw: Hardware) -> int:
    """Large enough to keep the device busy with dynamic padding, small enough for a 16 GB GPU."""
    if hw.device == "cuda":
        return 64 if (hw.memory_gb or 0) >= 20 else 32
    return 32
