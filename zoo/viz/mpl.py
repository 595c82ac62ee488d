"""Lazy matplotlib with the Agg backend, and an atomic PNG save."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from zoo.io import atomic_write_bytes


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (imported on first use)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def save_png(fig: Any, path: str | Path, dpi: int = 110) -> Path:
    """Render ``fig`` to PNG bytes, write them atomically to ``path`` and close the figure."""
    target = Path(path)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    pyplot().close(fig)
    atomic_write_bytes(target, buffer.getvalue())
    return target
