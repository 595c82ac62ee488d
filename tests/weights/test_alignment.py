"""Loaded weights live in aligned memory, so a reloaded model reproduces the saved model's outputs bit for bit."""
from __future__ import annotations

import torch

from zoo.weights.statedict import _ALIGNMENT, load_weights


def test_misaligned_file_tensors_are_copied_into_aligned_memory() -> None:
    base = torch.arange(17, dtype=torch.float32)
    weight = base[1:].view(4, 4)  # 4 bytes past an aligned start: what an 8-byte safetensors offset can give
    assert weight.data_ptr() % _ALIGNMENT
    outcome = load_weights(lambda: torch.nn.Linear(4, 4, bias=False), {"weight": (4, 4)},
                           lambda device: {"weight": weight}, what="test")
    loaded = outcome.model.weight
    assert loaded.data_ptr() % _ALIGNMENT == 0
    assert torch.equal(loaded, weight)


def test_aligned_tensors_are_used_as_they_are() -> None:
    weight = torch.randn(4, 4)
    assert weight.data_ptr() % _ALIGNMENT == 0
    outcome = load_weights(lambda: torch.nn.Linear(4, 4, bias=False), {"weight": (4, 4)},
                           lambda device: {"weight": weight}, what="test")
    assert outcome.model.weight.data_ptr() == weight.data_ptr()  # no needless copy
