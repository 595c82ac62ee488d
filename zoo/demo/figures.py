"""The demo's own figures: training curves that show what happened, and real inputs next to what a model did.

Every function writes a PNG atomically and returns a :class:`Figure` (its path and a caption that says what to look
at). Curves skip missing values (federated runs evaluate every few rounds; the other rounds are NaN) and do not
draw a series that never changes (a constant learning rate is named in the caption instead).
"""
from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.demo.metrics import describe
from zoo.io import atomic_write_bytes


#: History entries that only count (the x axis already shows them).
COUNTERS = frozenset({"step", "steps", "epoch", "round", "rounds", "iteration"})


@dataclass(frozen=True)
class Figure:
    """A picture of the report and its caption."""

    path: Path
    caption: str


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def _finite(values: Sequence[Any]) -> list[tuple[int, float]]:
    points = []
    for step, value in enumerate(values):
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            points.append((step + 1, number))
    return points


def history_figure(history: Mapping[str, Any], path: Path, title: str) -> Figure | None:
    """One panel per series of ``history`` that has values and changes; ``None`` when nothing is worth drawing.

    The caption names each panel with its direction (loss ↓, accuracy ↑), says how many points a sparse series has
    (evaluations every few rounds), and lists the constant series with their value.
    """
    series: dict[str, list[tuple[int, float]]] = {}
    constant: list[str] = []
    for name, values in history.items():
        if name in COUNTERS or not isinstance(values, (list, tuple)) or not values:
            continue
        points = _finite(values)
        if not points:
            continue
        # constant: a value at every step that never changes (a series with gaps is an evaluation every few
        # rounds: drawn as points even when there is only one)
        flat = max(v for _, v in points) - min(v for _, v in points) <= 1e-12 * max(1.0, abs(points[0][1]))
        if flat and len(points) == len(values):
            constant.append(f"{name} = {points[0][1]:.4g}")
            continue
        series[name] = points
    if not series:
        return None
    plt = _pyplot()
    columns = min(3, len(series))
    rows = math.ceil(len(series) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 2.8 * rows), squeeze=False)
    parts = []
    total = max(len(v) for v in history.values() if isinstance(v, (list, tuple)))
    for ax, (name, points) in zip(axes.flat, series.items(), strict=False):
        xs, ys = zip(*points, strict=True)
        sparse = len(points) < 0.5 * total
        ax.plot(xs, ys, marker="o" if sparse else None, markersize=3, linewidth=1.2)
        info = describe(name)
        arrow = f" {info.direction}" if info and info.direction != "·" else ""
        ax.set_title(f"{name}{arrow}", fontsize=9)
        ax.set_xlabel("step / round", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        parts.append(f"{name}{arrow}" + (f" ({len(points)} evaluations)" if sparse else ""))
    for ax in list(axes.flat)[len(series):]:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    _save(fig, path)
    caption = (f"Training of {title} over {total} steps or rounds: " + ", ".join(parts)
               + ". A loss (↓) should fall and flatten; an accuracy (↑) should rise.")
    if constant:
        caption += " Constant throughout (not drawn): " + ", ".join(constant) + "."
    return Figure(path, caption)


def labelled_images(images: Any, titles: Sequence[str], path: Path, *, overlays: Any = None,
                    suptitle: str = "") -> Path:
    """A row of grey images (``[N, 1, H, W]`` or ``[N, H, W]`` in [0, 1]) with a title each and, optionally, a
    heat map (``[N, h, w]``, upsampled) drawn over each one."""
    import numpy as np

    plt = _pyplot()
    data = np.asarray(images.detach().cpu() if hasattr(images, "detach") else images, dtype=np.float32)
    if data.ndim == 4:
        data = data[:, 0]
    heat = None
    if overlays is not None:
        heat = np.asarray(overlays.detach().cpu() if hasattr(overlays, "detach") else overlays, dtype=np.float32)
    n = data.shape[0]
    fig, axes = plt.subplots(1, n, figsize=(1.6 * n, 2.0), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.imshow(data[i], cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        if heat is not None:
            h, w = data[i].shape
            ax.imshow(heat[i], cmap="inferno", alpha=0.45, extent=(-0.5, w - 0.5, h - 0.5, -0.5),
                      interpolation="bilinear")
        ax.set_title(titles[i], fontsize=7)
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle, fontsize=9)
    fig.tight_layout()
    return _save(fig, path)
