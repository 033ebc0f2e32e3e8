"""Precision follows what the GPU does natively (no GPU here: CUDA's answers are monkeypatched per GPU model)."""

from types import SimpleNamespace

import pytest
import torch

from trainer.hardware import detect, precision_for


@pytest.mark.parametrize("name, capability, expected", [
    ("Tesla T4", (7, 5), "fp16"), ("Tesla V100-SXM2-16GB", (7, 0), "fp16"),
    ("NVIDIA A10G", (8, 6), "bf16"), ("NVIDIA L4", (8, 9), "bf16"),
    ("NVIDIA A100-SXM4-40GB", (8, 0), "bf16"), ("NVIDIA H100 80GB HBM3", (9, 0), "bf16"),
])
def test_bf16_only_where_the_gpu_has_it_natively(monkeypatch, name, capability, expected):
    monkeypatch.delenv("SM_NUM_GPUS", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)  # what emulation answers
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device=None: SimpleNamespace(
        name=name, total_memory=16 * 1024**3))
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    hw = detect()
    assert precision_for(hw) == expected
    assert ("loss scaling" in hw.describe()) == (expected == "fp16") and f"trains in {expected}" in hw.describe()
    assert precision_for(hw, "fp32") == "fp32"  # a user's choice stands
