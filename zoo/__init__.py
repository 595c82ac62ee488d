"""zoo: a plugin-based model zoo for PyTorch.

Three lines from a name to a result::

    import zoo
    model = zoo.load("sac-tiny")            # or zoo.build(...) for random weights
    out = zoo.infer(model, inputs)

``import zoo`` is cheap: it imports neither torch nor any plugin's model code. The public functions below are
resolved lazily on first use.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY: dict[str, tuple[str, str]] = {
    # catalogue and names
    "list_models": ("zoo.registry", "list_models"),
    "info": ("zoo.registry", "info"),
    # lifecycle
    "build": ("zoo.api", "build"),
    "get_config": ("zoo.api", "get_config"),
    "infer": ("zoo.api", "infer"),
    "train": ("zoo.api", "train"),
    "evaluate": ("zoo.api", "evaluate"),
    "make_data": ("zoo.api", "make_data"),
    "example_inputs": ("zoo.api", "example_inputs"),
    # weights and hub
    "load": ("zoo.weights", "load"),
    "save": ("zoo.weights", "save"),
    "push": ("zoo.weights", "push"),
    "pull": ("zoo.weights", "pull"),
    # records
    "TrainOptions": ("zoo.options", "TrainOptions"),
    "Options": ("zoo.options", "Options"),
    "MethodSpec": ("zoo.specs", "MethodSpec"),
    "VariantSpec": ("zoo.specs", "VariantSpec"),
    "InputSpec": ("zoo.specs", "InputSpec"),
    "hookimpl": ("zoo.hookspecs", "hookimpl"),
}

__all__ = sorted(_LAZY) + ["__version__"]

from zoo.compat import install_import_hook as _install_import_hook  # noqa: E402 - cheap, imports no torch

_install_import_hook()  # torchvision (and timm) then import and run their ops on a CPU-only torch

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from zoo.api import build, evaluate, example_inputs, get_config, infer, make_data, train
    from zoo.hookspecs import hookimpl
    from zoo.registry import info, list_models
    from zoo.specs import InputSpec, MethodSpec, VariantSpec
    from zoo.options import Options, TrainOptions
    from zoo.weights import load, pull, push, save


def __getattr__(name: str) -> Any:
    """Resolve the public API lazily (PEP 562) so ``import zoo`` stays light."""
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'zoo' has no attribute {name!r}")
    value = getattr(importlib.import_module(target[0]), target[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
