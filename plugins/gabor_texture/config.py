"""Gabor texture variant configs (no torch import)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GaborConfig:
    """Semantic branch, Gabor bank and its parameter ranges, statistics, region gate, recipe.

    Every Gabor parameter is learned inside a closed range (``lo + (hi - lo) * sigmoid(raw)``): wavelength
    ``lambda`` in ``wavelength`` (pixels of the zoomed region), bandwidth ``b`` in ``bandwidth`` octaves (which
    sets ``sigma = lambda / pi * sqrt(ln 2 / 2) * (2^b + 1) / (2^b - 1)``), aspect ratio ``gamma`` in ``aspect``,
    phase ``psi`` in ``phase``, and each orientation within half a step of its slot ``k pi / orientations``.
    """

    backbone: str = "test_resnet"
    pretrained: bool = False
    image_size: int = 32
    num_classes: int = 8
    texture: bool = True
    orientations: int = 4
    scales: int = 2
    kernel_size: int = 7
    wavelength: tuple[float, float] = (2.0, 8.0)
    bandwidth: tuple[float, float] = (0.5, 2.5)
    aspect: tuple[float, float] = (0.3, 1.0)
    phase: tuple[float, float] = (0.0, 3.141592653589793)
    region_size: int = 16  # S: selected regions are zoomed to S x S before the Gabor bank
    region_grid: tuple[int, ...] = (1, 2)  # proposals: an n x n grid of windows for each n
    regions: int = 2  # the gate keeps this many qualified regions per image
    # recipe
    steps: int = 150
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 1e-4
    train_size: int = 160
    test_size: int = 240


def tiny() -> GaborConfig:
    """CPU-sized: test_resnet semantic branch, 4 orientations x 2 scales of 7 x 7 Gabor filters, regions of a
    1 x 1 and a 2 x 2 grid (5 proposals), 2 kept, zoomed to 16 px."""
    return GaborConfig()


def paper() -> GaborConfig:
    """Paper-sized (layout chosen here where the abstract is silent): ResNet-50 at 448 px (CUB, 200 classes),
    4 scales x 8 orientations, 15 x 15 kernels, RCNN-like proposals of 1 x 1, 2 x 2 and 3 x 3 windows, 4 kept,
    zoomed to 112 px."""
    return GaborConfig(backbone="resnet50", pretrained=True, image_size=448, num_classes=200, orientations=8,
                       scales=4, kernel_size=15, wavelength=(3.0, 24.0), region_size=112, region_grid=(1, 2, 3),
                       regions=4, steps=30_000, batch_size=16, lr=1e-3)


def cnn() -> GaborConfig:
    """The semantic branch alone (no texture branch), at tiny size."""
    from dataclasses import replace

    return replace(tiny(), texture=False)
