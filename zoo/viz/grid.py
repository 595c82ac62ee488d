"""Image grids: a batch of images (N,C,H,W or N,H,W) tiled into one PNG, with optional captions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import InputError
from zoo.viz.mpl import pyplot, save_png


def _to_numpy(images: Any) -> np.ndarray:
    if hasattr(images, "detach"):
        images = images.detach().to("cpu").float().numpy()
    arr = np.asarray(images, dtype=np.float64)
    if arr.ndim == 3:
        arr = arr[:, None]
    if arr.ndim != 4 or arr.shape[0] == 0:
        raise InputError(f"image_grid expects (N, C, H, W) or (N, H, W) with N >= 1, got shape {arr.shape}")
    if arr.shape[1] not in (1, 3, 4) and arr.shape[-1] in (1, 3, 4):
        arr = arr.transpose(0, 3, 1, 2)  # NHWC
    if arr.shape[1] not in (1, 3, 4):
        raise InputError(f"image_grid expects 1, 3 or 4 channels, got {arr.shape[1]}")
    return arr


def image_grid(
    images: Any,
    path: str | Path,
    *,
    nrow: int | None = None,
    captions: Sequence[str] | None = None,
    normalize: bool = True,
    title: str = "",
) -> Path:
    """Tile ``images`` into a grid PNG at ``path`` (each image min-max scaled when ``normalize``)."""
    arr = _to_numpy(images)
    n = arr.shape[0]
    if captions is not None and len(captions) != n:
        raise InputError(f"{len(captions)} captions for {n} images")
    cols = nrow or min(n, max(1, int(math.ceil(math.sqrt(n)))))
    rows = int(math.ceil(n / cols))
    plt = pyplot()
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.7 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = arr[i]
        if normalize:
            lo, hi = img.min(), img.max()
            img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
        img = np.clip(img, 0.0, 1.0)
        if img.shape[0] == 1:
            ax.imshow(img[0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        else:
            ax.imshow(img.transpose(1, 2, 0), interpolation="nearest")
        if captions is not None:
            ax.set_title(str(captions[i]), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_png(fig, path)
