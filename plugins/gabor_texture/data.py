"""Texture-defined synthetic classes: the class is only in a fine texture, never in colour or shape.

Each 32 px image has a random smooth colour background and a random-coloured patch at a random place; inside
the patch, a low-contrast grating whose orientation (4 by default) and spatial frequency (cycles per
pixel, fine: 0.3 and 0.42 by default) make the class (``orientations x frequencies`` = 8 classes), plus
pixel noise. A CNN whose stem downsamples early
sees these frequencies aliased; a texture filter on the zoomed region sees them directly.
"""
from __future__ import annotations

import math

import torch
from torch.utils.data import TensorDataset

from zoo.errors import ConfigError, DataError


class TextureImages(TensorDataset):
    """``(image (3, S, S), label)``; ``images``, ``labels``, ``num_classes``."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, num_classes: int) -> None:
        super().__init__(images, labels)
        self.images, self.labels, self.num_classes = images, labels, num_classes


def make_textures(n: int, seed: int = 0, size: int = 32, orientations: int = 4,
                  frequencies: tuple[float, ...] = (0.3, 0.42), contrast: float = 0.08,
                  noise: float = 0.05) -> TextureImages:
    """``n`` images of ``orientations * len(frequencies)`` texture classes (module docstring)."""
    if n < 1 or size < 16:
        raise ConfigError(f"make_textures needs n >= 1 and size >= 16, got {n}, {size}")
    g = torch.Generator().manual_seed(seed)
    classes = orientations * len(frequencies)
    labels = torch.randint(classes, (n,), generator=g)
    yy, xx = torch.meshgrid(torch.arange(size, dtype=torch.float32), torch.arange(size, dtype=torch.float32),
                            indexing="ij")
    images = []
    for label in labels.tolist():
        angle = math.pi * (label % orientations) / orientations + 0.1 * float(torch.randn((), generator=g))
        freq = frequencies[label // orientations]
        c0, c1 = torch.rand(3, generator=g), torch.rand(3, generator=g)
        t = (xx + yy) / (2 * size)
        img = c0[:, None, None] * (1 - t) + c1[:, None, None] * t
        side = int(size * 0.5)
        y0, x0 = (int(v) for v in torch.randint(0, size - side + 1, (2,), generator=g))
        patch = torch.rand(3, generator=g)[:, None, None] * 0.6 + 0.2
        phase = 2 * math.pi * float(torch.rand((), generator=g))
        wave = torch.sin(2 * math.pi * freq * (xx * math.cos(angle) + yy * math.sin(angle)) + phase)
        inside = torch.zeros(size, size, dtype=torch.bool)
        inside[y0:y0 + side, x0:x0 + side] = True
        img = torch.where(inside[None], patch + contrast * wave[None], img)
        images.append((img + noise * torch.randn(3, size, size, generator=g)).clamp(0, 1))
    return TextureImages(torch.stack(images), labels, classes)


def make_data(config: object, source: str, split: str) -> TextureImages:
    """``synthetic`` texture classes (``train`` / ``test`` splits with different seeds)."""
    if source != "synthetic":
        raise DataError(f"data source {source!r} is not available: only 'synthetic' textures are generated here")
    n = config.train_size if split == "train" else config.test_size  # type: ignore[attr-defined]
    seed = 0 if split == "train" else 1
    return make_textures(n, seed=seed, size=config.image_size)  # type: ignore[attr-defined]
