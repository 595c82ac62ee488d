"""The plugin contract: pluggy hook specifications that every method plugin implements.

Most plugins never write these hooks: they declare methods with the SDK (:mod:`zoo.plugin`), which implements
them. A plugin may also be a module or object (found through the ``zoo.plugins`` entry-point group) defining hook
implementations marked with :data:`hookimpl` by hand; its top level must stay cheap: declare methods in
``zoo_methods`` and import model code inside the other hooks. A plugin that declares no methods (a tracker that
implements only ``zoo_train_event``) needs no other hook. The core routes each per-method hook only to the plugin that
declared the method, so a plugin never sees calls for methods it does not own and need not return ``None``
for them.

Per-method hooks (called on the owning plugin only):

- ``zoo_build(method, config)`` -> ``torch.nn.Module``                                        (required)
- ``zoo_example_inputs(method, config)`` -> ``dict`` of inputs matching the declared ``InputSpec``s (required)
- ``zoo_infer(method, model, inputs, config, options)`` -> outputs in the method's documented format  (required)
- ``zoo_train(method, model, data, config, options, callbacks)`` -> :class:`zoo.engines.trainer.TrainResult`-like
- ``zoo_evaluate(method, model, data, config, options)`` -> ``{metric: value}``
- ``zoo_make_data(method, config, source, split)`` -> the data object ``zoo_train``/``zoo_evaluate`` take
- ``zoo_prepare_inputs(method, config, options)`` -> inputs built from CLI options (files -> tensors)
- ``zoo_save_outputs(method, outputs, out_dir, config, options)`` -> list of written paths (arrays, pictures)

``options`` is always a typed :class:`zoo.options.Options` (for training a :class:`zoo.options.TrainOptions`):
values were coerced to the kinds the method declares (:class:`zoo.specs.OptionSpec`). Inputs reach
``zoo_infer`` validated against the declared ``InputSpec``s and converted to tensors of the declared dtype.
A hook may raise :class:`zoo.errors.InputError`, ``ConfigError`` or ``DataError`` for the caller's mistakes;
any other exception reaches the caller as a :class:`zoo.errors.PluginError` naming the plugin and method.
- ``zoo_preprocessing(method, config)`` -> a JSON-able dict of preprocessing parameters stored with weights

Cross-cutting hooks (called on every plugin):

- ``zoo_methods()`` -> list of :class:`zoo.specs.MethodSpec`
- ``zoo_train_event(event, state)`` -> ``None``: training callbacks (``on_train_start``, ``on_step_end``,
  ``on_eval_end``, ``on_checkpoint``, ``on_train_end``) so a third-party plugin can log to its own tracker.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from zoo.constants import PLUGGY_PROJECT
from zoo.specs import MethodSpec

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn

    from zoo.options import Options, TrainOptions

hookspec = pluggy.HookspecMarker(PLUGGY_PROJECT)
hookimpl = pluggy.HookimplMarker(PLUGGY_PROJECT)

#: Hooks that every method plugin must implement.
REQUIRED_HOOKS: tuple[str, ...] = ("zoo_methods", "zoo_build", "zoo_example_inputs", "zoo_infer")
#: Hooks routed to the single plugin that owns the method named in the call.
PER_METHOD_HOOKS: tuple[str, ...] = (
    "zoo_build",
    "zoo_example_inputs",
    "zoo_infer",
    "zoo_train",
    "zoo_evaluate",
    "zoo_make_data",
    "zoo_prepare_inputs",
    "zoo_save_outputs",
    "zoo_preprocessing",
)


class ZooHookSpecs:
    """Namespace holding the hook specifications (registered with the plugin manager)."""

    @hookspec
    def zoo_methods(self) -> Sequence[MethodSpec]:
        """Declare the methods this plugin provides. Must not import torch or model code."""

    @hookspec(firstresult=True)
    def zoo_build(self, method: str, config: Any) -> nn.Module:
        """Build the model (an ``nn.Module``) of ``method`` for a variant ``config``, randomly initialised."""

    @hookspec(firstresult=True)
    def zoo_example_inputs(self, method: str, config: Any) -> Mapping[str, Any]:
        """Small valid inputs for ``zoo_infer`` (used by the conformance kit and the registry tests)."""

    @hookspec(firstresult=True)
    def zoo_infer(self, method: str, model: nn.Module, inputs: Mapping[str, Any], config: Any,
                  options: Options) -> Any:
        """Run inference; inputs were already validated against the method's ``InputSpec``s."""

    @hookspec(firstresult=True)
    def zoo_train(
        self, method: str, model: nn.Module, data: Any, config: Any, options: TrainOptions, callbacks: Sequence[Any]
    ) -> Any:
        """Train ``model`` in place with the variant's recipe (``options``: a :class:`zoo.options.TrainOptions`);
        return a result with ``history`` and ``metrics`` (the shared trainer's ``TrainResult``)."""

    @hookspec(firstresult=True)
    def zoo_evaluate(self, method: str, model: nn.Module, data: Any, config: Any,
                     options: Options) -> Mapping[str, float]:
        """Evaluate with the paper's metric definitions; return ``{metric: value}``."""

    @hookspec(firstresult=True)
    def zoo_make_data(self, method: str, config: Any, source: str, split: str) -> Any:
        """Make the data ``zoo_train``/``zoo_evaluate`` take: ``source`` is ``synthetic``, a bundled set or a path."""

    @hookspec(firstresult=True)
    def zoo_prepare_inputs(self, method: str, config: Any, options: Options) -> Mapping[str, Any]:
        """Turn command-line options (file paths, numbers) into ``zoo_infer`` inputs."""

    @hookspec(firstresult=True)
    def zoo_save_outputs(self, method: str, outputs: Any, out_dir: Path, config: Any,
                         options: Options) -> list[Path]:
        """Write inference outputs (arrays, pictures) under ``out_dir``; return the paths written."""

    @hookspec(firstresult=True)
    def zoo_preprocessing(self, method: str, config: Any) -> Mapping[str, Any]:
        """Preprocessing parameters (transforms, audio features, index settings) that travel with the weights."""

    @hookspec
    def zoo_train_event(self, event: str, state: Mapping[str, Any]) -> None:
        """Training callback fired by the shared trainer on every plugin (loggers, trackers)."""
