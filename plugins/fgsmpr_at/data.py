"""Data: scikit-learn's digits (bundled; resized when the variant's images are larger than 8x8)."""
from __future__ import annotations

import torch

from zoo.data.digits import DigitsDataset, load_digits_resized
from zoo.errors import ConfigError
from zoo_plugins.fgsmpr_at.config import FGSMPRConfig

SOURCES: tuple[str, ...] = ("digits",)


def make_data(config: FGSMPRConfig, source: str, split: str) -> DigitsDataset:
    """``digits`` ``train``/``test``/``all``, as ``[N, C, S, S]`` images in [0, 1] at the variant's size."""
    if source not in SOURCES:
        raise ConfigError(f"fgsmpr-at: unknown data source {source!r}; expected one of {', '.join(SOURCES)} "
                          "(MNIST / CIFAR-10 are not bundled)")
    if config.num_classes != 10:
        raise ConfigError(f"digits has 10 classes; the variant has num_classes={config.num_classes}")
    return load_digits_resized(split, config.image_size, config.in_channels)


def tensors(data: object) -> tuple[torch.Tensor, torch.Tensor]:
    """``(images, labels)`` of a dataset holding them as tensors."""
    images, labels = getattr(data, "images", None), getattr(data, "labels", None)
    if not isinstance(images, torch.Tensor) or not isinstance(labels, torch.Tensor):
        raise ConfigError("fgsmpr-at needs a dataset with .images and .labels tensors (e.g. zoo.make_data)")
    return images, labels
