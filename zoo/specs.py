"""Frozen records that describe methods, variants, inputs and released weights.

These are the shapes that flow between plugins and the core: a plugin declares :class:`MethodSpec` objects from
its ``zoo_methods`` hook; ``registry.yaml`` entries become :class:`CatalogueEntry` records (see
:mod:`zoo.catalogue`); released weights are :class:`WeightSpec`. Nothing here imports torch.
"""
from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["implemented", "planned", "not-applicable"]
STATUSES: tuple[str, ...] = ("implemented", "planned", "not-applicable")
DType = Literal["float", "long", "int", "bool", "any"]

_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_METHOD_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*(?:-[a-z0-9_]+)*$")


def is_commit_sha(value: str) -> bool:
    """True for a full 40-hex git/hub commit id."""
    return bool(_HEX40.match(value))


def is_sha256(value: str) -> bool:
    """True for a full 64-hex sha256 digest."""
    return bool(_HEX64.match(value))


def is_method_name(value: str) -> bool:
    """True for a valid method slug: lower-case words joined by single hyphens (``multigraph-fl``)."""
    return bool(_METHOD_NAME.match(value))


@dataclass(frozen=True)
class InputSpec:
    """One named input of a method's ``infer`` hook.

    ``shape`` mixes fixed sizes (``3`` channels) and symbols (``"B"``, ``"H"``); one symbol must take one size
    across all inputs of a call; every size must be at least 1 (an empty batch is an error). ``dtype`` is the
    kind of element expected; ``finite`` asks that floating inputs contain no NaN or Inf.
    """

    name: str
    shape: tuple[int | str, ...]
    dtype: DType = "float"
    description: str = ""
    finite: bool = True
    optional: bool = False

    def describe(self) -> str:
        """Human-readable expected shape, e.g. ``(B, 3, H, W) float``."""
        dims = ", ".join(str(d) for d in self.shape)
        return f"({dims}) {self.dtype}"


OptionKind = Literal["int", "float", "str", "bool", "path", "ints", "floats", "strs", "any"]
OPTION_KINDS: tuple[str, ...] = ("int", "float", "str", "bool", "path", "ints", "floats", "strs", "any")
HOOKS_WITH_OPTIONS: tuple[str, ...] = ("train", "infer", "evaluate", "prepare_inputs", "save_outputs")


@dataclass(frozen=True)
class OptionSpec:
    """One option a method understands, with its kind, so that values arrive typed.

    ``kind`` is ``int``, ``float``, ``str``, ``bool``, ``path``, their comma-separated lists ``ints``/``floats``/
    ``strs``, or ``any`` (a Python object: the Python API only). ``hooks`` names the hooks that receive it
    (``infer`` by default; ``prepare_inputs`` for options that turn files into inputs on the command line).
    """

    name: str
    kind: OptionKind = "str"
    default: Any = None
    help: str = ""
    hooks: tuple[str, ...] = ("infer",)
    choices: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"option name {self.name!r} must be a Python identifier (use '_' not '-')")
        if self.kind not in OPTION_KINDS:
            raise ValueError(f"option {self.name!r}: kind {self.kind!r} is not one of {list(OPTION_KINDS)}")
        bad = [h for h in self.hooks if h not in HOOKS_WITH_OPTIONS]
        if bad:
            raise ValueError(f"option {self.name!r}: unknown hooks {bad}; options go to {list(HOOKS_WITH_OPTIONS)}")

    def describe(self) -> str:
        """``an int``, ``a comma-separated list of floats``..."""
        if self.kind.endswith("s") and self.kind != "any":
            return f"a comma-separated list of {self.kind}"
        return {"int": "an int", "float": "a float", "str": "a string", "bool": "true/false", "path": "a path",
                "any": "any value"}[self.kind]


@dataclass(frozen=True)
class VariantSpec:
    """A named configuration of a method (``tiny`` for CPU tests, ``paper`` for the published setting).

    ``config`` is either a zero-argument factory or a lazy reference ``"package.module:attribute"`` (a dataclass
    type, an instance or a factory) so that declaring a variant never imports model code.
    """

    name: str
    config: str | Callable[[], Any]
    description: str = ""

    def make_config(self) -> Any:
        """Import (if needed) and return a fresh config object for this variant."""
        target: Any = self.config
        if isinstance(target, str):
            module_name, _, attr = target.partition(":")
            if not attr:
                raise ValueError(f"variant {self.name!r}: config reference {target!r} must be 'module:attribute'")
            target = getattr(importlib.import_module(module_name), attr)
        if callable(target):
            return target()
        return target


@dataclass(frozen=True)
class MethodSpec:
    """What a plugin says about one method it provides (cheap to build: no torch, no model code)."""

    name: str
    task: str
    title: str
    variants: Mapping[str, VariantSpec]
    inputs: tuple[InputSpec, ...] = ()
    default_variant: str = "tiny"
    paper: str = ""
    license: str = "Apache-2.0"
    capabilities: frozenset[str] = frozenset({"cpu"})
    kernels: tuple[str, ...] = ()
    summary: str = ""
    options: tuple[OptionSpec, ...] = ()
    card: str | None = None

    def __post_init__(self) -> None:
        if not is_method_name(self.name):
            raise ValueError(f"method name {self.name!r} must be lower-case words joined by hyphens")
        if self.default_variant not in self.variants:
            raise ValueError(f"method {self.name!r}: default variant {self.default_variant!r} is not declared")
        for key, variant in self.variants.items():
            if not isinstance(variant, VariantSpec):
                raise ValueError(f"method {self.name!r}: variant {key!r} must be a VariantSpec")
            if key != variant.name:
                raise ValueError(f"method {self.name!r}: variants key {key!r} differs from its VariantSpec name "
                                 f"{variant.name!r}; a model built from it would be tagged with the wrong variant")
        names = [o.name for o in self.options]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"method {self.name!r}: options declared twice: {dupes}")

    def options_for(self, hook: str) -> tuple[OptionSpec, ...]:
        """The declared options that ``hook`` receives."""
        return tuple(o for o in self.options if hook in o.hooks)


@dataclass(frozen=True)
class WeightSpec:
    """A released weight: where it lives (repo and full commit), what it is (sha256, size) and what it scored."""

    tag: str
    variant: str
    repo: str
    revision: str
    file: str
    sha256: str
    size: int
    license: str
    metrics: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    command: str = ""
    endpoint: str | None = None


@dataclass(frozen=True)
class CatalogueEntry:
    """One system of the sources, as ``registry.yaml`` records it (implemented or not)."""

    id: str
    name: str
    title: str
    source: str
    task: str
    status: Status
    plugin: str | None = None
    reason: str = ""
    variants: tuple[str, ...] = ()
    weights: tuple[WeightSpec, ...] = ()
    paper: str = ""
    license: str = ""
    spec: str = ""
    notes: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


def __getattr__(name: str) -> Any:
    """``TrainOptions`` moved to :mod:`zoo.options`; kept importable from here."""
    if name == "TrainOptions":
        from zoo.options import TrainOptions

        return TrainOptions
    raise AttributeError(f"module 'zoo.specs' has no attribute {name!r}")
