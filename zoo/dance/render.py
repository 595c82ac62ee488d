"""Stick-figure animation of a dancing group (front view, x-y plane) written as a GIF; music beats are marked by
a red frame border and a beat counter. Rendered with matplotlib (Agg) and assembled with Pillow; the file is
written atomically."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo.io import atomic_open
from zoo.dance import FPS
from zoo.dance.skeleton import SMPL_PARENTS, UP_AXIS
from zoo.errors import InputError

_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")


def write_gif(path: str | Path, joints: np.ndarray, beats: np.ndarray | None = None, *, fps: int = FPS,
              max_frames: int = 300, size: float = 3.2, dpi: int = 80) -> Path:
    """Animate ``joints [N, T, 24, 3]`` (a group) into a GIF at ``path``; ``beats [T]`` one-hot marks beats.

    At most ``max_frames`` frames are drawn (the sequence is subsampled evenly beyond that; a beat inside a
    skipped stretch is shown on the next drawn frame).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    j = np.asarray(joints, dtype=np.float64)
    if j.ndim != 4 or j.shape[-1] != 3 or j.shape[1] == 0:
        raise InputError(f"write_gif needs joints [N, T, J, 3], got shape {j.shape}")
    n, t = j.shape[:2]
    beat = np.zeros(t, dtype=bool) if beats is None else np.asarray(beats).reshape(-1)[:t] > 0.5
    step = max(1, int(np.ceil(t / max_frames)))
    shown = list(range(0, t, step))
    horiz = 0
    xs, ys = j[..., horiz], j[..., UP_AXIS]
    pad = 0.3
    xlim = (xs.min() - pad, xs.max() + pad)
    ylim = (ys.min() - pad, ys.max() + pad)
    fig, ax = plt.subplots(figsize=(size * max(1.0, (xlim[1] - xlim[0]) / (ylim[1] - ylim[0] + 1e-9)), size),
                           dpi=dpi)
    images = []
    beat_count = 0
    try:
        for k, f in enumerate(shown):
            ax.clear()
            ax.set_xlim(*xlim)
            ax.set_ylim(*ylim)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            for d in range(n):
                colour = _COLOURS[d % len(_COLOURS)]
                for c, p in enumerate(SMPL_PARENTS):
                    if p >= 0:
                        ax.plot([xs[d, f, p], xs[d, f, c]], [ys[d, f, p], ys[d, f, c]], color=colour, lw=2)
            window = beat[shown[k - 1] + 1 if k else 0: f + 1]
            on_beat = bool(window.any())
            beat_count += int(window.sum())
            for spine in ax.spines.values():
                spine.set_color("red" if on_beat else "black")
                spine.set_linewidth(4 if on_beat else 1)
            ax.set_title(f"t={f / fps:5.2f}s  beats {beat_count}" + ("  \u25cf" if on_beat else ""), fontsize=8)
            fig.canvas.draw()
            rgba = np.asarray(fig.canvas.buffer_rgba())
            images.append(Image.fromarray(rgba[..., :3].copy()))
    finally:
        plt.close(fig)
    out = Path(path)
    with atomic_open(out, "wb") as handle:
        images[0].save(handle, format="GIF", save_all=True, append_images=images[1:],
                       duration=int(1000 * step / fps), loop=0)
    return out
