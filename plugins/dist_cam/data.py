"""Data for weakly supervised localisation: one handwritten digit (scikit-learn's digits, scaled) placed at a random
position of a larger canvas with faint noise and random stroke clutter; the class is the digit, the box is where
it was put (tightened to its ink). ImageNet is not bundled."""
from __future__ import annotations

import torch
from torch.nn import functional as F
from torch.utils.data import TensorDataset

from zoo.errors import DataError
from zoo_plugins.dist_cam.config import DistCAMConfig

SOURCES: tuple[str, ...] = ("placed-digits", "synthetic")


class PlacedDigits(TensorDataset):
    """``(image [C, S, S], label)`` pairs with ``images``, ``labels`` and ``boxes [N, 4]`` (x0, y0, x1, y1; ends
    exclusive) of the whole set."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, boxes: torch.Tensor) -> None:
        super().__init__(images, labels)
        self.images, self.labels, self.boxes = images, labels, boxes


def _strokes(canvas: torch.Tensor, count: int, g: torch.Generator) -> None:
    """Draw ``count`` straight strokes (6-10 pixels, horizontal, vertical or diagonal) in place."""
    size = canvas.shape[-1]
    directions = torch.tensor([[1, 0], [0, 1], [1, 1], [1, -1]])
    for _ in range(count):
        length = int(torch.randint(6, 11, (1,), generator=g))
        dx, dy = directions[int(torch.randint(4, (1,), generator=g))].tolist()
        x0, y0 = (int(v) for v in torch.randint(size, (2,), generator=g))
        value = float(torch.empty(1).uniform_(0.5, 1.0, generator=g))
        for t in range(length):
            x, y = x0 + t * dx, y0 + t * dy
            if 0 <= x < size and 0 <= y < size:
                canvas[y, x] = max(float(canvas[y, x]), value)


def placed_digits(n: int, split: str, image_size: int = 32, digit_size: int = 12, clutter: int = 3,
                  channels: int = 1, seed: int = 0) -> PlacedDigits:
    """``n`` canvases built from the digits of ``split`` (train/test: disjoint digit images), seeded."""
    from zoo.data.digits import load_digits_split

    if digit_size > image_size:
        raise DataError(f"a {digit_size}px digit does not fit a {image_size}px canvas")
    source = load_digits_split(split)
    g = torch.Generator().manual_seed(seed * 7919 + (0 if split == "train" else 1))
    picks = torch.randint(len(source.labels), (n,), generator=g)
    digits = F.interpolate(source.images[picks], size=(digit_size, digit_size), mode="bilinear",
                           align_corners=False).clamp(0, 1)[:, 0]
    images = 0.1 * torch.rand(n, image_size, image_size, generator=g)
    boxes = torch.zeros(n, 4, dtype=torch.long)
    for i in range(n):
        _strokes(images[i], clutter, g)
        x, y = (int(v) for v in torch.randint(image_size - digit_size + 1, (2,), generator=g))
        region = images[i, y:y + digit_size, x:x + digit_size]
        images[i, y:y + digit_size, x:x + digit_size] = torch.maximum(region, digits[i])
        ys, xs = (digits[i] > 0.2).nonzero(as_tuple=True)
        boxes[i] = torch.tensor([x + int(xs.min()), y + int(ys.min()), x + int(xs.max()) + 1, y + int(ys.max()) + 1])
    images = images[:, None].expand(-1, channels, -1, -1).contiguous()
    return PlacedDigits(images, source.labels[picks].clone(), boxes)


def make_data(config: DistCAMConfig, source: str, split: str) -> PlacedDigits:
    """``placed-digits`` (alias ``synthetic``): ``data_size`` canvases of the variant's size."""
    if source not in SOURCES:
        raise DataError(f"dist-cam: unknown data source {source!r}; expected one of {', '.join(SOURCES)} "
                        "(ImageNet is not bundled)")
    if config.num_classes < 10:
        raise DataError(f"the digits have 10 classes; this variant has num_classes={config.num_classes}")
    return placed_digits(config.data_size, split, config.image_size, config.digit_size, config.clutter,
                         config.in_channels)
