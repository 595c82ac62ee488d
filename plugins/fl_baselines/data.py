"""Data of the FL baselines: scikit-learn digits (bundled, offline) or class-structured synthetic images.

``make_data(cfg, source, split)`` returns an :class:`FLData`: the split's images ``[n, C, S, S]`` in [0, 1] and
labels; the federation (who holds which samples) is made from the config at training time.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from zoo.errors import DataError
from zoo_plugins.fl_baselines.config import FLBaselineConfig


@dataclass(frozen=True)
class FLData:
    """Images ``x [n, C, S, S]`` (float, [0, 1]) and labels ``y [n]`` (int64) of one split."""

    x: torch.Tensor
    y: torch.Tensor

    def dataset(self) -> torch.utils.data.TensorDataset:
        """As a ``TensorDataset`` (the engine's fast batching path)."""
        return torch.utils.data.TensorDataset(self.x, self.y)


def _digits(split: str, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn digits ``[n, 1, 8, 8]`` in [0, 1] with the zoo's fixed stratified 75/25 split."""
    from zoo.data.digits import load_digits_split

    ds = load_digits_split(split, seed=seed)
    return ds.images.float(), ds.labels.long()


def _synthetic(cfg: FLBaselineConfig, split: str, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Class prototypes (binary 4x4 patterns, upsampled) plus noise: learnable at any image size."""
    gen = torch.Generator().manual_seed(1234)
    protos = F.interpolate((torch.rand(cfg.num_classes, cfg.in_channels, 4, 4, generator=gen) > 0.5).float(),
                           size=cfg.image_size,
                           mode="bilinear", align_corners=False)
    gen.manual_seed(1 if split == "train" else 2)
    y = torch.randint(cfg.num_classes, (n,), generator=gen)
    x = (protos[y] + 0.3 * torch.randn(n, cfg.in_channels, cfg.image_size, cfg.image_size, generator=gen)).clamp(0, 1)
    return x, y


def make_data(config: FLBaselineConfig, source: str, split: str) -> FLData:
    """The ``split`` (``train`` / ``test``) of ``source`` (``digits`` or ``synthetic``) at the config's image size."""
    cfg = config
    if split not in ("train", "test"):
        raise DataError(f"split must be 'train' or 'test', got {split!r}")
    if source == "digits":
        x, y = _digits(split)
        if cfg.image_size != 8:
            x = F.interpolate(x, size=cfg.image_size, mode="bilinear", align_corners=False)
        if cfg.in_channels != 1:
            x = x.repeat(1, cfg.in_channels, 1, 1)
        return FLData(x.contiguous(), y)
    if source == "synthetic":
        x, y = _synthetic(cfg, split, 1400 if split == "train" else 400)
        return FLData(x, y)
    raise DataError(f"unknown data source {source!r} for the FL baselines; expected 'digits' or 'synthetic'")
