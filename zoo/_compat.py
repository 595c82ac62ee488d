"""Deprecated alias of :mod:`zoo.compat` (torchvision/timm beside a CPU-only torch); import from ``zoo.compat``."""
from __future__ import annotations

import warnings

from zoo.compat import ensure_torchvision_ops, import_timm, import_torchvision, install_import_hook

warnings.warn("zoo._compat is deprecated; import from zoo.compat", DeprecationWarning, stacklevel=2)

__all__ = ["ensure_torchvision_ops", "import_timm", "import_torchvision", "install_import_hook"]
