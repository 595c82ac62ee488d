"""Landmark-like synthetic images: each landmark is a fixed scene of coloured shapes; images are views of it.

A scene is a smooth two-colour background with ``shapes`` objects (rectangles, discs, striped and checkered
patches), each with its own colour, place and size. A *view* warps the scene (rotation, zoom, shift), jitters
brightness and contrast, adds an occluding patch and pixel noise. View strength makes the revisited-protocol
categories:

- **easy**: mild warp, small occluder;
- **hard**: strong warp, large occluder;
- **junk**: a strong zoom into one corner with a large occluder (too little of the landmark to count).

:func:`make_landmarks` gives a training set (views of ``classes`` landmarks); :func:`make_landmark_benchmark`
gives queries (one mild view per test landmark), a database of easy/hard/junk views plus distractor scenes, and
per-query ``{"easy", "hard", "junk"}`` database indices for :func:`zoo.metrics.retrieval.revisited_maps`.
Test landmarks are disjoint from training landmarks unless ``test_offset=0``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F
from torch.utils.data import TensorDataset

from zoo.errors import ConfigError

STRENGTH = {"query": 0.25, "easy": 0.4, "hard": 1.0, "junk": 1.0}


def _grid(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    axis = torch.linspace(-1, 1, size)
    return torch.meshgrid(axis, axis, indexing="ij")


def render_scene(seed: int, size: int = 32, shapes: int = 6) -> torch.Tensor:
    """The canonical (3, size, size) image in [0, 1] of landmark ``seed``."""
    g = torch.Generator().manual_seed(int(seed) * 7919 + 17)
    yy, xx = _grid(size)
    c0, c1 = torch.rand(3, generator=g) * 0.5, torch.rand(3, generator=g) * 0.5 + 0.3
    angle = torch.rand((), generator=g) * math.pi
    t = ((xx * torch.cos(angle) + yy * torch.sin(angle)) + 1.5) / 3
    img = c0[:, None, None] * (1 - t) + c1[:, None, None] * t
    for _ in range(shapes):
        kind = int(torch.randint(4, (), generator=g))
        cx, cy = (torch.rand(2, generator=g) * 1.4 - 0.7).tolist()
        w, h = (torch.rand(2, generator=g) * 0.35 + 0.12).tolist()
        colour = torch.rand(3, generator=g)
        dx, dy = (xx - cx) / w, (yy - cy) / h
        if kind == 1:
            mask = (dx ** 2 + dy ** 2) <= 1
        else:
            mask = (dx.abs() <= 1) & (dy.abs() <= 1)
        if kind == 2:  # stripes
            freq = float(torch.rand((), generator=g) * 6 + 4)
            mask = mask & (torch.sin(freq * math.pi * (xx + yy)) > 0)
        elif kind == 3:  # checks
            freq = float(torch.randint(3, 7, (), generator=g))
            mask = mask & ((torch.floor(dx * freq) + torch.floor(dy * freq)) % 2 == 0)
        img = torch.where(mask[None], colour[:, None, None], img)
    return img


def view(scene: torch.Tensor, g: torch.Generator, strength: float, junk: bool = False) -> torch.Tensor:
    """One photometric and geometric view of a scene (module docstring)."""
    size = scene.shape[-1]
    r = lambda: float(torch.rand((), generator=g) * 2 - 1)  # noqa: E731 - a uniform draw in [-1, 1]
    angle = 0.35 * strength * r()
    zoom = (1.0 + 0.25 * strength * r()) if not junk else 0.35
    shift = (0.15 * strength * r(), 0.15 * strength * r()) if not junk else (0.6 * math.copysign(1, r()),
                                                                              0.6 * math.copysign(1, r()))
    theta = torch.tensor([[zoom * math.cos(angle), -zoom * math.sin(angle), shift[0]],
                          [zoom * math.sin(angle), zoom * math.cos(angle), shift[1]]], dtype=torch.float32)
    grid = F.affine_grid(theta[None], [1, 3, size, size], align_corners=False)
    out = F.grid_sample(scene[None], grid, padding_mode="reflection", align_corners=False)[0]
    out = (out - 0.5) * (1 + 0.3 * strength * r()) + 0.5 + 0.15 * strength * r()
    occ = int(size * (0.15 + 0.3 * strength))
    y0, x0 = (int(v) for v in torch.randint(0, size - occ + 1, (2,), generator=g))
    out[:, y0:y0 + occ, x0:x0 + occ] = torch.rand(3, 1, 1, generator=g)
    out = out + 0.03 * torch.randn(out.shape, generator=g)
    return out.clamp(0, 1)


class LandmarkImages(TensorDataset):
    """``(image (3, S, S), label)``; ``images``, ``labels``, ``num_classes``."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, num_classes: int) -> None:
        super().__init__(images, labels)
        self.images, self.labels, self.num_classes = images, labels, num_classes


def make_landmarks(classes: int = 20, per_class: int = 12, size: int = 32, seed: int = 0,
                   strength: float = 0.7, first: int = 0) -> LandmarkImages:
    """Training views of landmarks ``first .. first + classes - 1`` (labels 0..classes-1)."""
    if classes < 2 or per_class < 1 or size < 8:
        raise ConfigError(f"make_landmarks needs classes >= 2, per_class >= 1, size >= 8; got {classes}, "
                          f"{per_class}, {size}")
    g = torch.Generator().manual_seed(seed)
    images, labels = [], []
    for c in range(classes):
        scene = render_scene(first + c, size)
        for _ in range(per_class):
            images.append(view(scene, g, strength))
            labels.append(c)
    return LandmarkImages(torch.stack(images), torch.tensor(labels), classes)


@dataclass
class LandmarkBenchmark:
    """Queries, database and the revisited ground truth (indices into the database)."""

    queries: torch.Tensor
    query_labels: torch.Tensor
    database: torch.Tensor
    database_labels: torch.Tensor  # -1 for distractors
    kinds: list[str]  # "easy" | "hard" | "junk" | "distractor" per database image
    ground_truth: list[dict[str, list[int]]]


def make_landmark_benchmark(classes: int = 10, easy: int = 4, hard: int = 4, junk: int = 2,
                            distractors: int = 40, size: int = 32, seed: int = 1,
                            test_offset: int = 10_000) -> LandmarkBenchmark:
    """A revisited-style benchmark over landmarks ``test_offset .. test_offset + classes - 1`` (module
    docstring); distractors are single views of further unrelated landmarks."""
    g = torch.Generator().manual_seed(seed)
    queries, q_labels, db, db_labels, kinds = [], [], [], [], []
    for c in range(classes):
        scene = render_scene(test_offset + c, size)
        queries.append(view(scene, g, STRENGTH["query"]))
        q_labels.append(c)
        for kind, count in (("easy", easy), ("hard", hard), ("junk", junk)):
            for _ in range(count):
                db.append(view(scene, g, STRENGTH[kind], junk=kind == "junk"))
                db_labels.append(c)
                kinds.append(kind)
    for d in range(distractors):
        db.append(view(render_scene(test_offset + classes + 1 + d, size), g, STRENGTH["easy"]))
        db_labels.append(-1)
        kinds.append("distractor")
    truth = [{kind: [i for i, (lab, k) in enumerate(zip(db_labels, kinds)) if lab == c and k == kind]
              for kind in ("easy", "hard", "junk")} for c in range(classes)]
    return LandmarkBenchmark(torch.stack(queries), torch.tensor(q_labels), torch.stack(db), torch.tensor(db_labels),
                             kinds, truth)
