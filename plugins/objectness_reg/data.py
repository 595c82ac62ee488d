"""A synthetic detection task: textured backgrounds with 1-3 rectangles or ellipses, one class ("object").

Scene ``i`` of a split is a deterministic function of ``(seed, split, i)``: a smooth random background (a coarse
random grid upsampled, per colour channel) and objects of random size, colour and shape (filled rectangles or
ellipses with a 1-pixel darker rim), placed with at most 30 % overlap; targets are their tight boxes
``(x1, y1, x2, y2)`` and label 0.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from zoo.errors import ConfigError
from zoo_plugins.objectness_reg.config import ORConfig

SPLIT_OFFSET: dict[str, int] = {"train": 0, "test": 1_000_000}


def _overlap(a: list[float], b: list[float]) -> float:
    """Intersection over the smaller box."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return w * h / min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))


def scene(config: ORConfig, seed: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """One image ``[3, S, S]`` in [0, 1] and its target ``{"boxes", "labels"}``."""
    g = torch.Generator().manual_seed(seed)
    s = config.image_size
    coarse = torch.rand(1, 3, 5, 5, generator=g) * 0.5 + 0.2
    image = F.interpolate(coarse, size=(s, s), mode="bicubic", align_corners=False)[0]
    image = (image + 0.05 * torch.randn(3, s, s, generator=g)).clamp(0, 1)
    yy, xx = torch.meshgrid(torch.arange(s).float(), torch.arange(s).float(), indexing="ij")
    count = int(torch.randint(config.objects[0], config.objects[1] + 1, (), generator=g))
    boxes: list[list[float]] = []
    for _ in range(50):
        if len(boxes) == count:
            break
        w, h = (int(v) for v in torch.randint(config.object_size[0], config.object_size[1] + 1, (2,), generator=g))
        x1 = int(torch.randint(0, s - w + 1, (), generator=g))
        y1 = int(torch.randint(0, s - h + 1, (), generator=g))
        box = [float(x1), float(y1), float(x1 + w), float(y1 + h)]
        if any(_overlap(box, other) > 0.3 for other in boxes):
            continue
        colour = torch.rand(3, generator=g)
        colour = torch.where(colour > 0.5, 0.75 + 0.25 * colour, 0.25 * colour)  # away from the background's range
        inside = (xx >= x1) & (xx < x1 + w) & (yy >= y1) & (yy < y1 + h)
        if bool(torch.rand((), generator=g) < 0.5):  # ellipse inscribed in the box
            cx, cy = x1 + (w - 1) / 2, y1 + (h - 1) / 2
            inside &= ((xx - cx) / (w / 2)) ** 2 + ((yy - cy) / (h / 2)) ** 2 <= 1.0
        rim = inside & ~(F.max_pool2d((~inside).float()[None, None], 3, 1, 1)[0, 0] == 0)
        image = torch.where(inside, colour[:, None, None], image)
        image = torch.where(rim, colour[:, None, None] * 0.5, image)
        boxes.append(box)
    target = {"boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
              "labels": torch.zeros(len(boxes), dtype=torch.int64)}
    return image, target


class Scenes(Dataset):
    """``length`` synthetic scenes of ``split`` (``train`` / ``test``)."""

    def __init__(self, config: ORConfig, split: str, length: int, seed: int = 0) -> None:
        if split not in SPLIT_OFFSET:
            raise ConfigError(f"objectness-regularization: unknown split {split!r}; expected train or test")
        self.config, self.split, self.length, self.seed = config, split, length, seed

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return scene(self.config, self.seed * 7_919 + SPLIT_OFFSET[self.split] + i)


def collate(items: list[tuple[torch.Tensor, dict[str, torch.Tensor]]]) -> tuple[torch.Tensor, list[dict[str, Any]]]:
    """Stack the images, keep the targets as a list (variable numbers of boxes)."""
    return torch.stack([im for im, _ in items]), [t for _, t in items]


def make_data(config: ORConfig, source: str, split: str) -> Scenes:
    """``synthetic`` scenes: 4,096 for ``train``, 128 for ``test``."""
    if source != "synthetic":
        raise ConfigError(f"objectness-regularization: unknown data source {source!r}; expected synthetic "
                          "(COCO is not bundled)")
    if config.backbone != "tiny":
        raise ConfigError("the synthetic scenes are for the tiny variant")
    return Scenes(config, split, 4096 if split == "train" else 128)
