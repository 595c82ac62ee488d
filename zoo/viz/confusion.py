"""Confusion matrix picture (counts, optionally row-normalised)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import InputError
from zoo.viz.mpl import pyplot, save_png


def confusion_counts(y_true: Any, y_pred: Any, num_classes: int | None = None) -> np.ndarray:
    """``C[i, j]`` = number of samples of true class ``i`` predicted as ``j``."""
    t = np.asarray(y_true).astype(np.int64).ravel()
    p = np.asarray(y_pred).astype(np.int64).ravel()
    if t.shape != p.shape:
        raise InputError(f"y_true and y_pred must have the same length, got {t.shape[0]} and {p.shape[0]}")
    n = int(num_classes if num_classes is not None else max(t.max(initial=-1), p.max(initial=-1)) + 1)
    if n <= 0:
        raise InputError("confusion matrix of an empty set")
    counts = np.zeros((n, n), dtype=np.int64)
    np.add.at(counts, (t, p), 1)
    return counts


def confusion_matrix(
    y_true: Any,
    y_pred: Any,
    path: str | Path,
    *,
    labels: Sequence[str] | None = None,
    normalize: bool = False,
    title: str = "",
) -> Path:
    """Draw the confusion matrix of predictions to a PNG at ``path`` and return the path."""
    counts = confusion_counts(y_true, y_pred, len(labels) if labels is not None else None)
    shown = counts / np.maximum(counts.sum(1, keepdims=True), 1) if normalize else counts
    n = counts.shape[0]
    plt = pyplot()
    size = min(12.0, 2.0 + 0.45 * n)
    fig, ax = plt.subplots(figsize=(size, size))
    im = ax.imshow(shown, cmap="Blues")
    fig.colorbar(im, ax=ax, fraction=0.046)
    names = list(labels) if labels is not None else [str(i) for i in range(n)]
    ax.set_xticks(range(n), names, rotation=90 if n > 10 else 0)
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if n <= 20:
        top = shown.max() if shown.size else 0
        for i in range(n):
            for j in range(n):
                text = f"{shown[i, j]:.2f}" if normalize else str(int(shown[i, j]))
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if shown[i, j] > 0.5 * top else "black",
                )
    ax.set_title(title or ("confusion (row-normalised)" if normalize else "confusion"))
    fig.tight_layout()
    return save_png(fig, path)
