"""The plugin SDK: a method in one declaration; the SDK writes the pluggy hook implementations.

A plugin package's ``__init__.py`` holds declarations only::

    from zoo.plugin import Method, Plugin, Variant, Input, Option

    plugin = Plugin(
        Method(
            "protonet",
            task="few-shot-classification",
            title="Prototypical Networks for Few-shot Learning",
            paper="https://arxiv.org/abs/1703.05175",
            license="MIT",
            variants=[Variant("tiny", "zoo_protonet.config:tiny", "digits, 2 conv blocks")],
            inputs=[Input("image", ("B", 1, "H", "W"), "float", "images in [0, 1]")],
            options=[Option("top_k", "int", 1, "classes to return")],
            build="zoo_protonet.model:ProtoNet",
            infer="zoo_protonet.infer:predict",
            example_inputs="zoo_protonet.infer:example_inputs",
            train="zoo_protonet.train:train",
        )
    )

and the distribution declares ``[project.entry-points."zoo.plugins"] protonet = "zoo_protonet:plugin"``.

Every hook target is a lazy ``"package.module:function"`` reference (or a callable), imported on first call, so
declaring a method never imports torch. A target receives, **by parameter name**, whichever of the hook's
arguments it names as parameters (``*args``/``**kwargs`` receive nothing): ``method``, ``config``, ``model``, ``inputs``, ``data``, ``options``, ``callbacks``,
``source``, ``split``, ``outputs``, ``out_dir``. A function that takes ``(model, inputs, options)`` gets just
those. The hooks and what they return are listed in :mod:`zoo.hookspecs`.

A plugin may still write pluggy hook implementations by hand (see ``zoo.hookspecs``); both kinds mix freely.
``docs/plugins.md`` is the author guide; ``zoo plugin new NAME`` writes a complete new plugin distribution.
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo.errors import PluginError
from zoo.hookspecs import hookimpl
from zoo.specs import InputSpec, MethodSpec, OptionSpec, VariantSpec

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn

#: Short names for plugin authors.
Input = InputSpec
Option = OptionSpec
Target = str | Callable[..., Any]

#: The hooks a declaration can name, with the arguments each passes (targets pick what they need by name).
HOOK_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "build": ("method", "config"),
    "example_inputs": ("method", "config"),
    "infer": ("method", "model", "inputs", "config", "options"),
    "train": ("method", "model", "data", "config", "options", "callbacks"),
    "evaluate": ("method", "model", "data", "config", "options"),
    "make_data": ("method", "config", "source", "split"),
    "prepare_inputs": ("method", "config", "options"),
    "save_outputs": ("method", "outputs", "out_dir", "config", "options"),
    "preprocessing": ("method", "config"),
}
REQUIRED_TARGETS: tuple[str, ...] = ("build", "example_inputs", "infer")


def Variant(name: str, config: str | Callable[[], Any], description: str = "") -> VariantSpec:  # noqa: N802
    """A named configuration: ``config`` is ``"package.module:factory"`` (lazy) or a zero-argument callable."""
    return VariantSpec(name, config, description)


class _Target:
    """A lazily imported hook target that is called with the arguments its signature names."""

    def __init__(self, method: str, hook: str, target: Target) -> None:
        if isinstance(target, str) and (":" not in target or not all(target.partition(":")[::2])):
            raise ValueError(f"method {method!r}: {hook} target {target!r} must be 'package.module:function'")
        if not isinstance(target, str) and not callable(target):
            raise ValueError(f"method {method!r}: {hook} target must be a 'module:function' string or a callable")
        self.method = method
        self.hook = hook
        self.target = target
        self._fn: Callable[..., Any] | None = None
        self._wanted: tuple[str, ...] = ()

    def describe(self) -> str:
        """``module:function`` of the target (for messages)."""
        if isinstance(self.target, str):
            return self.target
        return f"{getattr(self.target, '__module__', '?')}:{getattr(self.target, '__qualname__', repr(self.target))}"

    def resolve(self) -> Callable[..., Any]:
        """Import the target (once) and work out which hook arguments it takes."""
        if self._fn is None:
            fn: Any = self.target
            if isinstance(fn, str):
                module_name, _, attr = fn.partition(":")
                module = importlib.import_module(module_name)
                try:
                    for part in attr.split("."):
                        module = getattr(module, part)
                except AttributeError:
                    raise PluginError(f"method {self.method!r}: {self.hook} target {fn!r} does not exist") from None
                fn = module
            if not callable(fn):
                raise PluginError(f"method {self.method!r}: {self.hook} target {self.describe()} is not callable")
            available = HOOK_ARGUMENTS[self.hook]
            params = [p for p in inspect.signature(fn).parameters.values()
                      if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]
            unknown = [p.name for p in params if p.name not in available and p.default is p.empty]
            if unknown:
                raise PluginError(f"method {self.method!r}: {self.hook} target {self.describe()} asks for "
                                  f"{unknown}; a {self.hook} target can take {list(available)}")
            self._wanted = tuple(p.name for p in params if p.name in available)
            self._fn = fn
        return self._fn

    def __call__(self, **arguments: Any) -> Any:
        fn = self.resolve()
        return fn(**{name: arguments[name] for name in self._wanted})


class Method:
    """One method's declaration: its :class:`~zoo.specs.MethodSpec` plus lazy hook targets.

    Args:
        name: the method slug (``multigraph-fl``).
        task, title, paper, license, summary: what the catalogue shows (``paper``: a URL or citation).
        variants: :func:`Variant` objects (the first is the default unless ``default_variant`` says otherwise).
        inputs: the inputs ``infer`` takes (:class:`Input`), validated and converted by the core.
        options: the options ``train``/``infer``/``evaluate`` understand (:class:`Option`), typed.
        capabilities: ``cpu``, ``cuda``, ``images``, ``audio``, ``federated``...; ``kernels``: fused ops used.
        card: the method card (README) path relative to the declaring package (default ``README.md``).
        build, example_inputs, infer: required targets; the rest are optional.
    """

    def __init__(
        self,
        name: str,
        *,
        task: str,
        title: str,
        variants: Sequence[VariantSpec] | Mapping[str, VariantSpec],
        inputs: Iterable[InputSpec],
        build: Target,
        example_inputs: Target,
        infer: Target,
        train: Target | None = None,
        evaluate: Target | None = None,
        make_data: Target | None = None,
        prepare_inputs: Target | None = None,
        save_outputs: Target | None = None,
        preprocessing: Target | None = None,
        paper: str = "",
        license: str = "Apache-2.0",
        capabilities: Iterable[str] = ("cpu",),
        kernels: Iterable[str] = (),
        options: Iterable[OptionSpec] = (),
        summary: str = "",
        default_variant: str | None = None,
        card: str | None = "README.md",
    ) -> None:
        listed = list(variants.values()) if isinstance(variants, Mapping) else list(variants)
        if isinstance(variants, Mapping):
            for key, variant in variants.items():
                if key != variant.name:
                    raise ValueError(f"method {name!r}: variants key {key!r} differs from its Variant name "
                                     f"{variant.name!r}")
        if not listed:
            raise ValueError(f"method {name!r} declares no variants")
        default = default_variant or ("tiny" if any(v.name == "tiny" for v in listed) else listed[0].name)
        self.spec = MethodSpec(
            name=name, task=task, title=title, variants={v.name: v for v in listed}, inputs=tuple(inputs),
            default_variant=default, paper=paper, license=license, capabilities=frozenset(capabilities),
            kernels=tuple(kernels), summary=summary, options=tuple(options), card=card,
        )
        given = {"build": build, "example_inputs": example_inputs, "infer": infer, "train": train,
                 "evaluate": evaluate, "make_data": make_data, "prepare_inputs": prepare_inputs,
                 "save_outputs": save_outputs, "preprocessing": preprocessing}
        self.targets: dict[str, _Target] = {
            hook: _Target(name, hook, target) for hook, target in given.items() if target is not None
        }

    @property
    def name(self) -> str:
        """The method slug."""
        return self.spec.name


class Plugin:
    """A set of :class:`Method` declarations registered as one pluggy plugin.

    Point the entry point at the instance (``name = "package:plugin"``). The instance implements every
    per-method hook and routes each call to the declaring method's target; :meth:`implements` tells the core
    which optional hooks a method really has.
    """

    def __init__(self, *methods: Method, package: str | None = None) -> None:
        if not methods:
            raise ValueError("a Plugin declares at least one Method")
        self.methods: dict[str, Method] = {}
        for m in methods:
            if m.name in self.methods:
                raise ValueError(f"method {m.name!r} is declared twice in one plugin")
            self.methods[m.name] = m
        self.package = package or _caller_package()

    def __repr__(self) -> str:
        return f"Plugin({self.package}: {', '.join(self.methods)})"

    # -- introspection used by the core ------------------------------------------------------------
    def implements(self, hook: str, method: str) -> bool:
        """Whether ``method`` declares a target for ``hook`` (``zoo_train`` or ``train``)."""
        short = hook.removeprefix("zoo_")
        declared = self.methods.get(method)
        return declared is not None and short in declared.targets

    def card_path(self, method: str) -> Path | None:
        """Where the method card (README) of ``method`` lives, if the package has a folder."""
        declared = self.methods.get(method)
        if declared is None or declared.spec.card is None or self.package is None:
            return None
        module = importlib.util.find_spec(self.package)
        if module is None or not module.submodule_search_locations:
            return None
        return Path(list(module.submodule_search_locations)[0]) / declared.spec.card

    def _call(self, hook: str, method: str, **arguments: Any) -> Any:
        declared = self.methods.get(method)
        if declared is None:
            raise PluginError(f"method {method!r} is not declared by {self!r}", plugin=self.package)
        target = declared.targets.get(hook)
        if target is None:
            raise PluginError(f"method {method!r} does not implement {hook}", plugin=self.package)
        return target(method=method, **arguments)

    # -- pluggy hooks --------------------------------------------------------------------------------
    @hookimpl
    def zoo_methods(self) -> list[MethodSpec]:
        """The declarations (no imports beyond this module)."""
        return [m.spec for m in self.methods.values()]

    @hookimpl
    def zoo_build(self, method: str, config: Any) -> nn.Module:
        """Build through the method's ``build`` target."""
        return self._call("build", method, config=config)

    @hookimpl
    def zoo_example_inputs(self, method: str, config: Any) -> Mapping[str, Any]:
        """Example inputs through the ``example_inputs`` target."""
        return self._call("example_inputs", method, config=config)

    @hookimpl
    def zoo_infer(self, method: str, model: nn.Module, inputs: Mapping[str, Any], config: Any,
                  options: Mapping[str, Any]) -> Any:
        """Inference through the ``infer`` target."""
        return self._call("infer", method, model=model, inputs=inputs, config=config, options=options)

    @hookimpl
    def zoo_train(self, method: str, model: nn.Module, data: Any, config: Any, options: Any,
                  callbacks: Sequence[Any]) -> Any:
        """Training through the ``train`` target."""
        return self._call("train", method, model=model, data=data, config=config, options=options,
                          callbacks=callbacks)

    @hookimpl
    def zoo_evaluate(self, method: str, model: nn.Module, data: Any, config: Any,
                     options: Mapping[str, Any]) -> Mapping[str, float]:
        """Evaluation through the ``evaluate`` target."""
        return self._call("evaluate", method, model=model, data=data, config=config, options=options)

    @hookimpl
    def zoo_make_data(self, method: str, config: Any, source: str, split: str) -> Any:
        """Data through the ``make_data`` target."""
        return self._call("make_data", method, config=config, source=source, split=split)

    @hookimpl
    def zoo_prepare_inputs(self, method: str, config: Any, options: Mapping[str, Any]) -> Mapping[str, Any]:
        """Inputs from command-line options through the ``prepare_inputs`` target."""
        return self._call("prepare_inputs", method, config=config, options=options)

    @hookimpl
    def zoo_save_outputs(self, method: str, outputs: Any, out_dir: Path, config: Any,
                         options: Mapping[str, Any]) -> list[Path]:
        """Output files through the ``save_outputs`` target."""
        return self._call("save_outputs", method, outputs=outputs, out_dir=out_dir, config=config, options=options)

    @hookimpl
    def zoo_preprocessing(self, method: str, config: Any) -> Mapping[str, Any]:
        """Preprocessing parameters through the ``preprocessing`` target (``{}`` when none is declared)."""
        if not self.implements("preprocessing", method):
            return {}
        return self._call("preprocessing", method, config=config)


def _caller_package() -> str | None:
    """The package whose ``__init__`` created the :class:`Plugin` (to find its method cards)."""
    frame = inspect.currentframe()
    try:
        caller = frame.f_back.f_back if frame and frame.f_back else None  # type: ignore[union-attr]
        if caller is None:
            return None
        name = caller.f_globals.get("__name__")
        is_package = caller.f_globals.get("__path__") is not None
        if not name:
            return None
        return name if is_package else name.rpartition(".")[0] or name
    finally:
        del frame


__all__ = ["HOOK_ARGUMENTS", "Input", "Method", "Option", "Plugin", "Variant"]
