"""Data for ANC: scikit-learn's digits as flattened 64-d vectors in [0, 1] (zoo's stratified train/test split),
and a synthetic Gaussian-mixture classification set."""
from __future__ import annotations

import torch
from torch.utils.data import TensorDataset

from zoo.errors import ConfigError, DataError
from zoo_plugins.anc.config import ANCConfig


def digits(split: str) -> TensorDataset:
    """``(x (64,), label)`` pairs of zoo's digits split."""
    from zoo.data.digits import load_digits_split

    d = load_digits_split(split)
    return TensorDataset(d.images.flatten(1), d.labels)


def mixture(num_samples: int, in_features: int, num_classes: int, seed: int) -> TensorDataset:
    """Gaussian class clusters in ``in_features`` dimensions (means fixed by a generator, samples by ``seed``)."""
    means = torch.randn(num_classes, in_features, generator=torch.Generator().manual_seed(1234))
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(num_classes, (num_samples,), generator=g)
    return TensorDataset(means[labels] + torch.randn(num_samples, in_features, generator=g), labels)


def make_data(config: ANCConfig, source: str = "digits", split: str = "train") -> TensorDataset:
    """The ``make_data`` hook: ``digits`` (train / test) or ``synthetic`` (a Gaussian mixture)."""
    if split not in ("train", "test"):
        raise ConfigError(f"anc data split must be train or test, got {split!r}")
    if source == "digits":
        if config.in_features != 64 or config.num_classes != 10:
            raise DataError(f"the digits have 64 features and 10 classes; this variant expects {config.in_features} "
                            f"and {config.num_classes}")
        return digits(split)
    if source == "synthetic":
        return mixture(600 if split == "train" else 300, config.in_features, config.num_classes,
                       0 if split == "train" else 1)
    raise ConfigError(f"anc knows the data sources 'digits' and 'synthetic', got {source!r}")
