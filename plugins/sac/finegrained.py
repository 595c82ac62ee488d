"""A synthetic FINE-GRAINED task for SAC: many classes that look alike except for a small local detail.

Digits are coarse (every class has its own global shape); fine-grained data (birds, dogs, aircraft) is the
opposite: classes of one genus share the global appearance, and a small part tells the species apart. Here:

- ``genera * species`` classes (default 4 x 5 = 20), named ``"<species> <genus>"`` (``"red crowned warbler"``),
  so class names share words the way real fine-grained names do (SAC embeds the names);
- the **genus** sets the global appearance: a body (an ellipse of the genus's hue and orientation, jittered in
  position, size and colour) on a noisy background;
- the **species** is a 3x3 mark drawn in one dark colour at a random place on the body; only its *shape* differs
  between species (plus, cross, bar, column, corner), while ``distractors`` dark 2x2 blots of the same colour sit
  elsewhere on the body;
- pixel noise on top. Deterministic for a ``seed``.

A model must find the mark (attention) and read its shape; the genus alone gives 1 in ``species`` right.
"""
from __future__ import annotations

import math

import torch

from zoo_plugins.sac.data import TensorImageDataset

GENERA: tuple[str, ...] = ("warbler", "finch", "sparrow", "tern", "gull", "wren")
SPECIES: tuple[str, ...] = ("red crowned", "blue winged", "spotted", "striped", "pale", "dusky")
#: 3x3 shapes of the species marks (1 = dark pixel).
MARKS: tuple[tuple[tuple[int, ...], ...], ...] = (
    ((0, 1, 0), (1, 1, 1), (0, 1, 0)),  # plus
    ((1, 0, 1), (0, 1, 0), (1, 0, 1)),  # cross
    ((0, 0, 0), (1, 1, 1), (1, 1, 1)),  # bar
    ((1, 1, 0), (1, 1, 0), (1, 1, 0)),  # column
    ((1, 1, 1), (1, 0, 0), (1, 0, 0)),  # corner
    ((1, 0, 0), (0, 1, 0), (0, 0, 1)),  # diagonal
)


def class_names(genera: int = 4, species: int = 5) -> tuple[str, ...]:
    """``"<species> <genus>"`` for every class, genus-major (class = genus * species + species index)."""
    return tuple(f"{s} {g}" for g in GENERA[:genera] for s in SPECIES[:species])


def make_fine_grained(n: int, seed: int = 0, *, size: int = 16, genera: int = 4, species: int = 5,
                      distractors: int = 2, noise: float = 0.08) -> TensorImageDataset:
    """``n`` RGB images ``[n, 3, size, size]`` in [0, 1] with balanced labels (module docstring)."""
    if not 1 <= genera <= len(GENERA) or not 2 <= species <= len(SPECIES) or size < 12:
        raise ValueError(f"need 1 <= genera <= {len(GENERA)}, 2 <= species <= {len(SPECIES)}, size >= 12")
    g = torch.Generator().manual_seed(seed)
    num = genera * species
    labels = (torch.arange(n) % num)[torch.randperm(n, generator=g)]
    genus, kind = labels // species, labels % species
    coords = torch.arange(size, dtype=torch.float32) + 0.5
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    images = 0.45 + 0.08 * torch.rand(n, 3, 1, 1, generator=g) + noise * torch.randn(n, 3, size, size, generator=g)
    hue = 2 * math.pi * genus.float() / genera
    colour = 0.55 + 0.3 * torch.stack([torch.cos(hue), torch.cos(hue - 2.1), torch.cos(hue + 2.1)], 1)
    colour = colour + 0.05 * torch.randn(n, 3, generator=g)
    angle = math.pi * genus.float() / genera + 0.15 * torch.randn(n, generator=g)
    cx = size / 2 + 1.5 * (2 * torch.rand(n, generator=g) - 1)
    cy = size / 2 + 1.5 * (2 * torch.rand(n, generator=g) - 1)
    a = size * (0.36 + 0.04 * torch.rand(n, generator=g))
    b = size * (0.24 + 0.04 * torch.rand(n, generator=g))
    marks = torch.tensor(MARKS, dtype=torch.float32)
    dark = torch.tensor([0.08, 0.08, 0.1])
    for i in range(n):
        c, s = math.cos(float(angle[i])), math.sin(float(angle[i]))
        u = (xx - cx[i]) * c + (yy - cy[i]) * s
        v = -(xx - cx[i]) * s + (yy - cy[i]) * c
        body = (u / a[i]) ** 2 + (v / b[i]) ** 2 < 1.0
        images[i][:, body] = colour[i][:, None] + noise * torch.randn(3, int(body.sum()), generator=g)
        inside = torch.nonzero(body[1:-2, 1:-2]) + 1  # top-left corners of 3x3 windows on the body
        inside = inside[torch.randperm(len(inside), generator=g)]
        y0, x0 = (int(v) for v in inside[0])
        patch = marks[int(kind[i])].bool()
        region = images[i, :, y0:y0 + 3, x0:x0 + 3]
        region[:, patch] = dark[:, None]
        apart = ((inside[:, 0] - y0).abs() >= 3) | ((inside[:, 1] - x0).abs() >= 3)  # blots never touch the mark
        for y1, x1 in inside[apart][:distractors].tolist():
            images[i, :, y1:y1 + 2, x1:x1 + 2] = dark[:, None, None]
    return TensorImageDataset(images.clamp(0, 1), labels.long(), class_names(genera, species))
