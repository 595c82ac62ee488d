"""Synthetic label noise of the paper (Sect. 3.2), on a label tensor (seeded; the clean labels are untouched).

- ``uniform``: each label is replaced, with probability ``rate``, by one of the *other* classes drawn uniformly.
- ``class`` (class-dependent): each label is flipped to the next class circularly (``(y + 1) mod K``) with
  probability ``rate``.
"""
from __future__ import annotations

import torch

from zoo.errors import ConfigError


def corrupt_labels(labels: torch.Tensor, num_classes: int, rate: float, kind: str = "uniform",
                   seed: int = 0) -> torch.Tensor:
    """A noisy copy of ``labels`` under ``kind`` noise of ``rate`` (probability per sample)."""
    if not 0.0 <= rate < 1.0:
        raise ConfigError(f"noise rate must be in [0, 1), got {rate}")
    g = torch.Generator().manual_seed(seed)
    flip = torch.rand(labels.shape, generator=g) < rate
    if kind == "uniform":
        shift = torch.randint(1, num_classes, labels.shape, generator=g)  # 1..K-1: never the same class
    elif kind == "class":
        shift = torch.ones_like(labels)
    else:
        raise ConfigError(f"unknown label noise {kind!r}; expected uniform or class")
    return torch.where(flip, (labels + shift) % num_classes, labels)
