"""Training curves: one panel per logged quantity against the step."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from zoo.viz.mpl import pyplot, save_png

_SKIP = {"step", "eval_step"}


def _smooth(values: Sequence[float], window: int) -> list[float]:
    out, acc, buf = [], 0.0, []
    for v in values:
        buf.append(v)
        acc += v
        if len(buf) > window:
            acc -= buf.pop(0)
        out.append(acc / len(buf))
    return out


def training_curves(
    history: Mapping[str, Sequence[float]],
    path: str | Path,
    *,
    title: str = "",
    keys: Sequence[str] | None = None,
    smooth: int | None = None,
) -> Path:
    """Plot ``history`` (as the trainer records it) to a PNG at ``path`` and return the path.

    Series named ``eval_*`` are drawn against ``eval_step``, the others against ``step`` (or their index). The
    loss is drawn raw (faint) and smoothed over ``smooth`` steps (default: about 2% of the run).
    """
    names = list(keys) if keys is not None else [k for k in history if k not in _SKIP and len(history[k]) > 0]
    plt = pyplot()
    cols = min(3, max(1, len(names)))
    rows = max(1, math.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    for ax, name in zip(list(axes.flat)[: len(names)], names, strict=True):
        values = [float(v) for v in history[name]]
        xkey = "eval_step" if name.startswith("eval_") else "step"
        xs = list(history.get(xkey, []))
        if len(xs) != len(values):
            xs = list(range(1, len(values) + 1))
        window = smooth or max(1, len(values) // 50)
        if window > 1:
            ax.plot(xs, values, alpha=0.3, linewidth=0.8)
            ax.plot(xs, _smooth(values, window), linewidth=1.5)
        else:
            ax.plot(xs, values, marker="o" if len(values) < 30 else None, linewidth=1.5)
        if name in ("loss", "lr") and values and min(values) > 0 and max(values) / min(values) > 50:
            ax.set_yscale("log")
        ax.set_title(name)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_png(fig, path)
