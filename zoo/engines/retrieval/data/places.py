"""A synthetic LiDAR world for place recognition: scans along a route, and their bird's-eye-view images.

The world is a square of side ``extent`` metres holding buildings (box outlines), walls (segments) and poles
(small circles), each sampled as surface points at several heights. A *scan* at pose ``(x, y, yaw)`` keeps
the points within ``radius`` metres, expressed in the sensor frame (rotated by ``-yaw``), with range noise and
random point dropout. :func:`bev_image` rasterises a scan as BEVPlace does: a voxel-like grid of
``resolution`` metres over ``[-radius, radius]^2`` (cells centred on the sensor), point counts capped at
10, cells with at most one point cleared, then scaled to [0, 1] by the maximum.

:func:`make_places` drives a route of database scans every ``spacing`` metres, and query scans near each
database place (``query_offset`` metres away, any yaw): ground truth is every database place within
``positive_radius`` metres of the query (BEVPlace's 5 m on KITTI).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from zoo.errors import ConfigError


def make_world(extent: float = 160.0, objects: int = 260, seed: int = 0) -> np.ndarray:
    """World points (N, 3): box outlines, wall segments and poles, each at several heights."""
    rng = np.random.default_rng(seed)
    pts = []
    for _ in range(objects):
        kind = rng.choice(3, p=[0.4, 0.3, 0.3])
        cx, cy = rng.uniform(0, extent, 2)
        if kind == 0:  # a building outline
            w, h = rng.uniform(4, 14, 2)
            t = rng.uniform(0, 4, int(12 * (w + h)))
            side = t.astype(int)
            frac = t - side
            xs = np.where(side % 2 == 0, cx - w / 2 + frac * w, cx + np.where(side == 1, w / 2, -w / 2))
            ys = np.where(side % 2 == 1, cy - h / 2 + frac * h, cy + np.where(side == 0, -h / 2, h / 2))
        elif kind == 1:  # a wall
            length, angle = rng.uniform(5, 20), rng.uniform(0, np.pi)
            t = rng.uniform(-0.5, 0.5, int(10 * length)) * length
            xs, ys = cx + t * np.cos(angle), cy + t * np.sin(angle)
        else:  # a pole or tree trunk
            r = rng.uniform(0.2, 0.8)
            a = rng.uniform(0, 2 * np.pi, 40)
            xs, ys = cx + r * np.cos(a), cy + r * np.sin(a)
        height = rng.uniform(2, 8)
        for z in np.linspace(0.2, height, 4):
            pts.append(np.stack([xs, ys, np.full_like(xs, z)], 1))
    return np.concatenate(pts).astype(np.float32)


def scan(world: np.ndarray, x: float, y: float, yaw: float, radius: float = 40.0, noise: float = 0.05,
         dropout: float = 0.1, rng: np.random.Generator | None = None) -> np.ndarray:
    """The points within ``radius`` of (x, y) in the sensor frame (rotated by ``-yaw``), noised, thinned."""
    rng = rng or np.random.default_rng(0)
    rel = world[:, :2] - np.array([x, y], dtype=np.float32)
    keep = (rel ** 2).sum(1) <= radius ** 2
    keep &= rng.random(len(world)) >= dropout
    c, s = np.cos(-yaw), np.sin(-yaw)
    local = rel[keep] @ np.array([[c, s], [-s, c]], dtype=np.float32)
    out = np.concatenate([local, world[keep, 2:]], 1)
    return (out + rng.normal(0, noise, out.shape)).astype(np.float32)


def rotate_cloud(points: np.ndarray, angle: float) -> np.ndarray:
    """The cloud rotated by ``angle`` radians about the vertical axis (what a sensor yaw change does)."""
    c, s = np.cos(angle), np.sin(angle)
    out = points.copy()
    out[:, :2] = points[:, :2] @ np.array([[c, s], [-s, c]], dtype=points.dtype)
    return out


def bev_image(points: np.ndarray, radius: float = 40.0, resolution: float = 0.4) -> torch.Tensor:
    """BEVPlace's density image (1, S, S) with ``S = 2 * floor(radius / resolution) + 1`` (201 at 40 m, 0.4 m)."""
    half = int(np.floor(radius / resolution + 1e-9))  # 40 / 0.4 is 99.99999 in floating point
    size = 2 * half + 1
    ix = half - np.rint(points[:, 1] / resolution).astype(int)  # cells centred on the sensor, so a 90-degree
    iy = half - np.rint(points[:, 0] / resolution).astype(int)  # yaw turn is exactly a rot90 of the image
    ok = (ix >= 0) & (ix < size) & (iy >= 0) & (iy < size)
    counts = np.zeros((size, size), dtype=np.float32)
    np.add.at(counts, (iy[ok], ix[ok]), 1.0)
    counts = np.minimum(counts, 10.0)
    counts[counts <= 1] = 0.0
    peak = counts.max()
    return torch.from_numpy(counts / peak if peak > 0 else counts)[None]


@dataclass
class Places:
    """Database and query BEV images with their positions and the ground-truth positives."""

    database: torch.Tensor  # (N, 1, S, S)
    database_xy: np.ndarray
    queries: torch.Tensor
    query_xy: np.ndarray
    query_clouds: list[np.ndarray]
    database_clouds: list[np.ndarray]
    positives: list[np.ndarray]  # per query: database indices within positive_radius


def make_places(places: int = 24, spacing: float = 6.0, query_offset: float = 1.5, radius: float = 20.0,
                resolution: float = 0.8, positive_radius: float = 5.0, seed: int = 0, yaw: str = "random",
                world: np.ndarray | None = None) -> Places:
    """A route of ``places`` database scans and one query per place (module docstring).

    ``yaw="random"`` gives every scan a random heading (the rotation-robustness setting); ``"aligned"`` keeps
    the query heading equal to its database place's.
    """
    if places < 2 or spacing <= 0 or radius <= resolution:
        raise ConfigError(f"make_places needs places >= 2, spacing > 0 and radius > resolution; got {places}, "
                          f"{spacing}, {radius}, {resolution}")
    rng = np.random.default_rng(seed)
    extent = max(160.0, places * spacing / 2 + 4 * radius)
    world = make_world(extent, objects=int(260 * (extent / 160) ** 2), seed=seed) if world is None else world
    start = np.array([2 * radius, extent / 2])
    heading = rng.uniform(0, 2 * np.pi)
    xy = [start]
    for _ in range(places - 1):  # a smooth random route that stays inside the world
        heading += rng.normal(0, 0.35)
        step = xy[-1] + spacing * np.array([np.cos(heading), np.sin(heading)])
        if not (radius < step[0] < extent - radius and radius < step[1] < extent - radius):
            heading += np.pi / 2
            step = xy[-1] + spacing * np.array([np.cos(heading), np.sin(heading)])
        xy.append(np.clip(step, radius, extent - radius))
    db_xy = np.stack(xy)
    db_yaw = rng.uniform(0, 2 * np.pi, places) if yaw == "random" else np.zeros(places)
    angle = rng.uniform(0, 2 * np.pi, places)
    q_xy = db_xy + query_offset * np.stack([np.cos(angle), np.sin(angle)], 1)
    q_yaw = rng.uniform(0, 2 * np.pi, places) if yaw == "random" else db_yaw
    db_clouds = [scan(world, *p, t, radius, rng=rng) for p, t in zip(db_xy, db_yaw)]
    q_clouds = [scan(world, *p, t, radius, rng=rng) for p, t in zip(q_xy, q_yaw)]
    dist = np.linalg.norm(q_xy[:, None] - db_xy[None], axis=2)
    return Places(torch.stack([bev_image(c, radius, resolution) for c in db_clouds]), db_xy,
                  torch.stack([bev_image(c, radius, resolution) for c in q_clouds]), q_xy, q_clouds, db_clouds,
                  [np.nonzero(row <= positive_radius)[0] for row in dist])
