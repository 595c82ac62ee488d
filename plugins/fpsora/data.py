"""Data for FPSORA: scikit-learn's digits, and a synthetic manifold set (noisy concentric circles lifted into a
higher dimension, where locality matters more than variance)."""
from __future__ import annotations

import math

import torch

from zoo.clustering import LabelledMatrix, digits_matrix
from zoo.errors import ConfigError, DataError
from zoo_plugins.fpsora.config import FPSORAConfig


def lifted_rings(num_samples: int = 300, input_dim: int = 20, num_clusters: int = 3, noise: float = 0.05,
                 seed: int = 0) -> LabelledMatrix:
    """Concentric rings (radius = cluster + 1) in a random 2-D plane of ``R^input_dim`` plus isotropic noise: the
    classes are separated locally but not by the directions of largest variance."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(num_samples) % num_clusters
    angle = 2 * math.pi * torch.rand(num_samples, generator=g, dtype=torch.float64)
    radius = (labels + 1).to(torch.float64)
    plane = torch.stack([radius * angle.cos(), radius * angle.sin()], 1)
    basis, _ = torch.linalg.qr(torch.randn(input_dim, 2, generator=g, dtype=torch.float64))
    x = plane @ basis.T + noise * torch.randn(num_samples, input_dim, generator=g, dtype=torch.float64)
    return LabelledMatrix(x, labels, "rings")


def make_data(config: FPSORAConfig, source: str = "digits", split: str = "train") -> LabelledMatrix:
    """The ``make_data`` hook: ``digits`` (the variant's subset; the same set for every split: the method is
    unsupervised and evaluated on the data it embeds) or ``synthetic`` (lifted rings)."""
    if split not in ("train", "test", "all"):
        raise ConfigError(f"fpsora data split must be train, test or all, got {split!r}")
    if source == "synthetic":
        return lifted_rings(input_dim=config.input_dim, num_clusters=min(config.num_clusters, 4),
                            seed=0 if split != "test" else 1)
    if source == "digits":
        if config.input_dim != 64:
            raise DataError(f"the digits have 64 features; this variant expects {config.input_dim}")
        return digits_matrix(config.num_samples)
    raise ConfigError(f"fpsora knows the data sources 'digits' and 'synthetic', got {source!r}")
