"""Deprecated alias of :mod:`zoo.viz.mpl` (lazy Agg matplotlib, atomic PNG save); import from there instead."""
from __future__ import annotations

import warnings

from zoo.viz.mpl import pyplot, save_png

warnings.warn("zoo.viz._mpl is deprecated; import from zoo.viz.mpl", DeprecationWarning, stacklevel=2)

__all__ = ["pyplot", "save_png"]
