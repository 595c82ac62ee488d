"""The method lifecycle: build, infer, train, evaluate, through the owning plugin's hooks.

Every model built here carries a :class:`ModelTag` (``model.zoo``) with its method, variant and config, so later
calls (``infer``, ``train``, ``save``) need only the model.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zoo import discovery, registry
from zoo.configs import override_config
from zoo.errors import PluginError, ZooError
from zoo.specs import MethodSpec
from zoo.options import TRAIN_DEFAULTS, Options, TrainOptions, make_options
from zoo.validation import convert_inputs, validate_inputs


@dataclass(frozen=True)
class ModelTag:
    """Identity of a built model: which method and variant, with which config."""

    method: str
    variant: str
    config: Any

    @property
    def name(self) -> str:
        """``method-variant``."""
        return f"{self.method}-{self.variant}"


def attach(model: Any, method: str, variant: str, config: Any) -> Any:
    """Record the method, variant and config on ``model`` (as ``model.zoo``) and return it."""
    setattr(model, "zoo", ModelTag(method, variant, config))
    return model


def tag_of(model: Any) -> ModelTag:
    """The :class:`ModelTag` of a model built by zoo."""
    tag = getattr(model, "zoo", None)
    if not isinstance(tag, ModelTag):
        raise ZooError("this model was not built by zoo (no `model.zoo` tag); use zoo.build or zoo.load")
    return tag


def spec_of(model_or_name: Any) -> MethodSpec:
    """The method spec of a built model or a name."""
    method = model_or_name if isinstance(model_or_name, str) else tag_of(model_or_name).method
    return registry.resolve(method).spec


def get_config(name: str, **overrides: Any) -> Any:
    """The variant config of ``name`` (``"sac-tiny"``) with ``overrides`` applied."""
    resolved = registry.resolve(name)
    return override_config(resolved.variant.make_config(), **overrides)


def build(name: str, *, config: Any = None, seed: int | None = 0, **overrides: Any) -> Any:
    """Build a randomly initialised model of ``name`` (``method[-variant]``); trained weights come from ``zoo.load``.

    Initialisation is reproducible: the model is built under ``seed`` (default 0) in a forked random state, so
    the same name and seed give bitwise-identical weights and the caller's random state is left untouched.
    ``seed=None`` draws from the current global random state instead.

    Args:
        name: a method or ``method-variant`` name.
        config: a full config object to use instead of the variant's.
        seed: the initialisation seed (``None``: the global random state).
        **overrides: config fields to replace (``num_classes=10``).
    """
    resolved = registry.resolve(name)
    cfg = override_config(config if config is not None else resolved.variant.make_config(), **overrides)
    method = resolved.spec.name
    with seeded(seed):
        model = discovery.plugins().call("zoo_build", method, config=cfg)
    if model is None:
        raise PluginError(f"zoo_build returned None for {method!r}", plugin=discovery.plugins().owners.get(method))
    return attach(model, method, resolved.variant.name, cfg)


class seeded:  # noqa: N801 - used as a context manager like torch.random.fork_rng
    """Run a block under ``seed`` (torch, numpy and ``random``), restoring the previous random states after.

    ``seed=None`` does nothing (the block uses the global random states).
    """

    def __init__(self, seed: int | None) -> None:
        self.seed = seed
        self._saved: tuple[Any, ...] = ()

    def __enter__(self) -> None:
        if self.seed is None:
            return
        import random

        import numpy as np
        import torch

        self._saved = (torch.random.get_rng_state(), np.random.get_state(), random.getstate())
        torch.manual_seed(self.seed)
        np.random.seed(self.seed % 2**32)
        random.seed(self.seed)

    def __exit__(self, *exc: object) -> None:
        if not self._saved:
            return
        import random

        import numpy as np
        import torch

        torch_state, np_state, py_state = self._saved
        torch.random.set_rng_state(torch_state)
        np.random.set_state(np_state)
        random.setstate(py_state)


def method_options(method: str, hook: str, given: Mapping[str, Any]) -> Options:
    """The typed ``options`` of ``hook`` for ``method`` from what the caller gave (see :mod:`zoo.options`)."""
    spec = registry.resolve(method).spec
    if hook == "train":
        return make_options(spec.options, hook, given, where=method, base=TRAIN_DEFAULTS, cls=TrainOptions)
    return make_options(spec.options, hook, given, where=method)


def example_inputs(model: Any) -> Mapping[str, Any]:
    """Small valid inputs for ``model`` (from the plugin's ``zoo_example_inputs``)."""
    tag = tag_of(model)
    return discovery.plugins().call("zoo_example_inputs", tag.method, config=tag.config)


def infer(model: Any, inputs: Mapping[str, Any], /, **options: Any) -> Any:
    """Validate ``inputs`` against the method's declared shapes, convert them to tensors of the declared dtypes
    (numpy arrays included), then run the plugin's inference with typed ``options``."""
    tag = tag_of(model)
    spec = spec_of(model)
    validate_inputs(tag.method, spec.inputs, inputs)
    tensors = convert_inputs(spec.inputs, inputs)
    typed = make_options(spec.options, "infer", options, where=tag.method)
    return discovery.plugins().call("zoo_infer", tag.method, model=model, inputs=tensors, config=tag.config,
                                    options=typed)


def _require(hook: str, method: str) -> None:
    found = discovery.plugins()
    if not found.implements(hook, method):
        raise PluginError(f"method {method!r} does not implement {hook}", plugin=found.owners.get(method))


def make_data(model_or_name: Any, source: str = "synthetic", split: str = "train", **overrides: Any) -> Any:
    """The data a method trains or evaluates on: ``synthetic``, a bundled set (``digits``) or a path.

    ``overrides`` replace fields of the config the data is made for (``realization=3``), whether the method is
    named or given as a model (the model's own config, overridden; an unknown field is a ConfigError).
    """
    if isinstance(model_or_name, str):
        resolved = registry.resolve(model_or_name)
        method, cfg = resolved.spec.name, get_config(model_or_name, **overrides)
    else:
        tag = tag_of(model_or_name)
        method, cfg = tag.method, override_config(tag.config, **overrides)
    _require("zoo_make_data", method)
    return discovery.plugins().call("zoo_make_data", method, config=cfg, source=source, split=split)


def train(
    model: Any,
    data: Any = None,
    *,
    options: TrainOptions | None = None,
    callbacks: Sequence[Any] = (),
    **option_overrides: Any,
) -> Any:
    """Train ``model`` in place with its variant's recipe; ``data`` defaults to the method's synthetic data."""
    tag = tag_of(model)
    _require("zoo_train", tag.method)
    if data is None:
        data = make_data(model, "synthetic", "train")
    given = {**(options or {}), **option_overrides}
    spec = spec_of(model)
    opts = make_options(spec.options, "train", given, where=tag.method, base=TRAIN_DEFAULTS, cls=TrainOptions)
    return discovery.plugins().call("zoo_train", tag.method, model=model, data=data, config=tag.config,
                                    options=opts, callbacks=list(callbacks))


def evaluate(model: Any, data: Any = None, /, **options: Any) -> Mapping[str, float]:
    """Evaluate ``model`` with the paper's metrics; ``data`` defaults to the method's synthetic test split."""
    tag = tag_of(model)
    _require("zoo_evaluate", tag.method)
    if data is None:
        data = make_data(model, "synthetic", "test")
    typed = make_options(spec_of(model).options, "evaluate", options, where=tag.method)
    result = discovery.plugins().call("zoo_evaluate", tag.method, model=model, data=data, config=tag.config,
                                      options=typed)
    return dict(result)
