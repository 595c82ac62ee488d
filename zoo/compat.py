"""Import helpers for the field's libraries beside a CPU-only torch (public: plugins import ``import_timm`` and
``import_torchvision`` from here).

Compatibility shim: make ``import torchvision`` (and so ``import timm``) work beside a CPU-only torch.

PyPI's torchvision wheels are CUDA builds. Beside the CPU torch wheel their compiled ops fail to load, and
``torchvision/_meta_registrations.py`` then registers fake kernels for ``torchvision::nms``/``qnms`` on ops that
were never defined, so the import dies with "operator torchvision::nms does not exist".

:func:`ensure_torchvision_ops` first tries to load torchvision's compiled ops (the normal case on a CUDA torch,
where this is a no-op); only if that fails does it define the two op schemas, so the meta registrations succeed.
It then registers pure-PyTorch CPU implementations of ``nms``, ``roi_align``, ``roi_pool`` and ``deform_conv2d``
(:mod:`zoo.vision_ops`) and tells torchvision its ops are available, so detection models (Faster/Mask R-CNN,
RetinaNet) and deformable convolutions run on CPU. ``import zoo`` installs an import hook that calls
:func:`ensure_torchvision_ops` the first time anything imports torchvision (timm does), so user code needs no
special import; the function is idempotent.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from pathlib import Path
from typing import Any

_STATE: dict[str, bool] = {}


def _torchvision_ops_library() -> Path | None:
    """Locate torchvision's compiled ``_C*.so`` without importing torchvision."""
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        for candidate in sorted(Path(location).glob("_C*.so")) + sorted(Path(location).glob("_C*.pyd")):
            return candidate
    return None


def ensure_torchvision_ops() -> bool:
    """Ensure the ``torchvision::nms``/``qnms`` schemas exist before torchvision is imported.

    Returns:
        ``True`` when the schemas had to be defined here (CPU torch beside a CUDA torchvision build), ``False``
        when torchvision's own ops loaded, torchvision is absent, or torchvision was already imported.
    """
    if "applied" in _STATE:
        return _STATE["applied"]
    if _STATE.get("running"):  # find_spec below re-enters through the import hook: the outer call does the work
        return False
    _STATE["running"] = True
    applied = False
    if "torchvision" not in sys.modules:
        library = _torchvision_ops_library()
        if library is not None:
            import torch

            try:
                torch.ops.load_library(str(library))
            except (OSError, RuntimeError):
                lib = torch.library.Library("torchvision", "FRAGMENT")  # noqa: F841 - kept alive below
                for op in ("nms", "qnms"):
                    try:
                        lib.define(f"{op}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
                    except RuntimeError:
                        pass  # already defined by another loader
                from zoo import vision_ops

                vision_ops.register(lib)
                _STATE["library_handle"] = lib  # type: ignore[assignment]
                applied = True
    _STATE["applied"] = applied
    if applied:
        _mark_ops_available()
    return applied


def _mark_ops_available() -> None:
    """Make ``torchvision.extension._has_ops()`` true once torchvision is imported (our CPU kernels back the ops)."""

    def patch(module: Any) -> None:
        module._has_ops = lambda: True
        roi_align = sys.modules.get("torchvision.ops.roi_align")  # holds its own reference to _has_ops
        if roi_align is not None:
            roi_align._has_ops = module._has_ops

    def patch_package(package: Any) -> None:  # after the whole package imported: its registrations are done
        patch(sys.modules["torchvision.extension"])

    if "torchvision" in sys.modules:
        patch(sys.modules["torchvision.extension"])
    else:
        sys.meta_path.insert(0, _AfterImport("torchvision", patch_package))


class _AfterImport(importlib.abc.MetaPathFinder):
    """Run ``action(module)`` right after ``name`` is first imported (then step aside)."""

    def __init__(self, name: str, action: Any) -> None:
        self.name = name
        self.action = action

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        loader, action = spec.loader, self.action

        class _Loader(importlib.abc.Loader):
            def create_module(self, spec: Any) -> Any:
                return loader.create_module(spec)

            def exec_module(self, module: Any) -> None:
                loader.exec_module(module)
                action(module)

        spec.loader = _Loader()
        return spec


class _BeforeTorchvision(importlib.abc.MetaPathFinder):
    """Calls :func:`ensure_torchvision_ops` the first time ``torchvision`` is imported (installed by ``import zoo``)."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != "torchvision":
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        ensure_torchvision_ops()  # may insert an _AfterImport finder for torchvision: let it answer
        for finder in list(sys.meta_path):
            if isinstance(finder, _AfterImport):
                return finder.find_spec(fullname, path, target)
        return None


def install_import_hook() -> None:
    """Arrange for :func:`ensure_torchvision_ops` to run before torchvision's first import (cheap: imports nothing)."""
    if "torchvision" in sys.modules or any(isinstance(f, _BeforeTorchvision) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _BeforeTorchvision())


def import_timm() -> Any:
    """Import timm after :func:`ensure_torchvision_ops` (use this instead of a bare ``import timm``)."""
    ensure_torchvision_ops()
    import timm

    return timm


def import_torchvision() -> Any:
    """Import torchvision after :func:`ensure_torchvision_ops`."""
    ensure_torchvision_ops()
    import torchvision

    return torchvision
