"""Data for ANMMF: scikit-learn's digits (non-normalised, as the paper uses its faces) and a synthetic
non-negative set with planted clusters."""
from __future__ import annotations

import torch

from zoo.clustering.datasets import LabelledMatrix, digits_matrix
from zoo.errors import ConfigError, DataError
from zoo_plugins.anmmf.config import ANMMFConfig



def digits(num_samples: int | None = None, seed: int = 0) -> LabelledMatrix:
    """scikit-learn's digits as 64 raw (non-normalised) features, as the paper uses its faces."""
    return digits_matrix(num_samples, seed)


def planted(num_samples: int = 120, input_dim: int = 30, num_clusters: int = 3, rank: int = 6,
            noise: float = 0.05, seed: int = 0) -> LabelledMatrix:
    """Non-negative low-rank data with planted clusters: each cluster owns a block of ``rank`` non-negative bases;
    a sample is a random non-negative mix of its cluster's bases plus a little non-negative noise."""
    g = torch.Generator().manual_seed(seed)
    per = max(1, rank // num_clusters)
    bases = torch.rand(input_dim, per * num_clusters, generator=g, dtype=torch.float64)
    labels = torch.arange(num_samples) % num_clusters
    mix = torch.zeros(num_samples, per * num_clusters, dtype=torch.float64)
    for c in range(num_clusters):
        rows = labels == c
        mix[rows, c * per:(c + 1) * per] = torch.rand(int(rows.sum()), per, generator=g, dtype=torch.float64) + 0.5
    x = mix @ bases.T + noise * torch.rand(num_samples, input_dim, generator=g, dtype=torch.float64)
    return LabelledMatrix(x, labels, "planted")


def make_data(config: ANMMFConfig, source: str = "digits", split: str = "train") -> LabelledMatrix:
    """The ``make_data`` hook: ``digits`` (the variant's subset; the same set for every split, as clustering is
    transductive) or ``synthetic`` (planted clusters of the variant's input size)."""
    if split not in ("train", "test", "all"):
        raise ConfigError(f"anmmf data split must be train, test or all, got {split!r}")
    if source == "synthetic":
        return planted(input_dim=config.input_dim, num_clusters=min(config.num_clusters, 5),
                       seed=0 if split != "test" else 1)
    if source == "digits":
        if config.input_dim != 64:
            raise DataError(f"the digits have 64 features; this variant expects {config.input_dim} "
                            "(train it on your own (n, D) matrix)")
        return digits(config.num_samples)
    raise ConfigError(f"anmmf knows the data sources 'digits' and 'synthetic', got {source!r}")
