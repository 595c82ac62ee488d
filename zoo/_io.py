"""Deprecated alias of :mod:`zoo.io` (the crash-safe file writes); import from ``zoo.io`` instead."""
from __future__ import annotations

import warnings

from zoo.io import atomic_directory, atomic_open, atomic_write_bytes, atomic_write_json, atomic_write_text

warnings.warn("zoo._io is deprecated; import from zoo.io", DeprecationWarning, stacklevel=2)

__all__ = ["atomic_directory", "atomic_open", "atomic_write_bytes", "atomic_write_json", "atomic_write_text"]
