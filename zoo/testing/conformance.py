"""The conformance kit: checks that a method plugin honours the zoo contract.

A plugin author calls :func:`check_plugin` (all methods of an entry point or module) or :func:`check_method`
(one method) in their own test suite::

    def test_my_plugin_conforms():
        zoo.testing.check_plugin("my_entry_point_name")

Each check raises :class:`AssertionError` with a precise message; the returned :class:`ConformanceReport` lists
what was checked. The checks: the declaration is well formed; every variant makes a config that round-trips
through ``config.json``; the ``tiny`` variant builds; example inputs satisfy the declared ``InputSpec``s;
inference runs; bad inputs (wrong rank, wrong dtype, wrong fixed size, NaN, Inf, empty batch) raise
:class:`~zoo.errors.InputError`; a safetensors state-dict round trip gives identical outputs.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from zoo.errors import InputError
from zoo.specs import InputSpec, MethodSpec


@dataclass
class ConformanceReport:
    """What the kit checked for one method."""

    method: str
    checks: list[str] = field(default_factory=list)

    def ok(self, what: str) -> None:
        """Record a passed check."""
        self.checks.append(what)


def bad_inputs(specs: tuple[InputSpec, ...], good: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(description, inputs)`` pairs that must each be rejected with :class:`InputError`.

    Mutations are derived from the declared shapes of the first required input: an extra leading axis, a
    wrong dtype, a wrong fixed-size axis (e.g. channel count), NaN and Inf values (float inputs) and an empty
    batch (leading symbolic axis of size 0).
    """
    import torch

    required = [s for s in specs if not s.optional and s.name in good]
    if not required:
        return
    spec = required[0]
    x = good[spec.name]
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(x)

    def with_(value: Any) -> dict[str, Any]:
        return {**good, spec.name: value}

    yield "wrong rank", with_(x.unsqueeze(0))
    if spec.dtype == "float":
        yield "wrong dtype", with_(torch.zeros(x.shape, dtype=torch.int64))
    elif spec.dtype in ("long", "int"):
        yield "wrong dtype", with_(x.to(torch.float32) + 0.5)
    elif spec.dtype == "bool":
        yield "wrong dtype", with_(x.to(torch.float32))
    for axis, size in enumerate(spec.shape):
        if isinstance(size, int):
            extra = x.narrow(axis, 0, 1)
            yield f"wrong size on axis {axis} (expected {size})", with_(torch.cat([x, extra], dim=axis))
            break
    if spec.dtype == "float" and spec.finite:
        for label, value in (("NaN", float("nan")), ("Inf", float("inf"))):
            bad = x.clone().float() if not x.is_floating_point() else x.clone()
            bad.view(-1)[0] = value
            yield f"{label} value", with_(bad)
    if isinstance(spec.shape[0], str):
        yield "empty batch", with_(x[:0])


def outputs_equal(a: Any, b: Any) -> bool:
    """Whether two inference outputs are identical (tensors exactly equal, containers element-wise)."""
    import torch

    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, Mapping):
        return isinstance(b, Mapping) and a.keys() == b.keys() and all(outputs_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(map(outputs_equal, a, b))
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return outputs_equal(dataclasses.asdict(a), dataclasses.asdict(b))  # type: ignore[arg-type]
    try:
        return bool(a == b)
    except Exception:
        return True  # opaque outputs (figures, paths) are not compared


def _seeded(fn: Callable[[], Any], seed: int = 0) -> Any:
    import torch

    torch.manual_seed(seed)
    return fn()


def check_declaration(spec: MethodSpec, report: ConformanceReport) -> None:
    """The declaration is well formed and every variant's config round-trips through JSON."""
    from zoo.configs import config_from_dict, config_to_dict

    assert spec.variants, f"{spec.name}: declares no variants"
    assert "tiny" in spec.variants, f"{spec.name}: every method needs a 'tiny' variant for CPU tests"
    assert spec.inputs, f"{spec.name}: declares no InputSpec (the core cannot validate inputs)"
    for variant in spec.variants.values():
        config = variant.make_config()
        assert dataclasses.is_dataclass(config), f"{spec.name}-{variant.name}: config must be a dataclass"
        again = config_from_dict(type(config), config_to_dict(config))
        assert again == config, f"{spec.name}-{variant.name}: config does not round-trip through config.json"
    report.ok("declaration and configs")


def check_method(method: str, variant: str = "tiny") -> ConformanceReport:
    """Run every contract check on one installed method; raise ``AssertionError`` on the first failure."""
    import torch
    from safetensors.torch import load, save

    import zoo
    from zoo.registry import resolve
    from zoo.validation import validate_inputs

    report = ConformanceReport(method)
    spec = resolve(method).spec
    check_declaration(spec, report)

    model = zoo.build(f"{method}-{variant}", seed=0)
    assert isinstance(model, torch.nn.Module), f"{method}: zoo_build must return an nn.Module"
    report.ok("build")

    inputs = dict(_seeded(lambda: zoo.example_inputs(model)))
    validate_inputs(method, spec.inputs, inputs)
    report.ok("example inputs match the declared InputSpecs")

    first = _seeded(lambda: zoo.infer(model, inputs))
    assert first is not None, f"{method}: zoo_infer returned None"
    report.ok("infer")

    for label, bad in bad_inputs(spec.inputs, inputs):
        try:
            zoo.infer(model, bad)
        except InputError:
            continue
        raise AssertionError(f"{method}: {label} input was not rejected with zoo.errors.InputError")
    report.ok("bad inputs raise InputError")

    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    blob = save(state)
    fresh = zoo.build(f"{method}-{variant}", seed=1)  # a different initialisation, then the saved weights
    fresh.load_state_dict(load(blob), strict=True)
    second = _seeded(lambda: zoo.infer(fresh, inputs))
    assert outputs_equal(first, second), f"{method}: outputs differ after a safetensors state-dict round trip"
    report.ok("safetensors round trip gives identical outputs")
    return report


def check_plugin(name: str) -> list[ConformanceReport]:
    """Check every method an installed plugin (entry-point name) declares."""
    from zoo import discovery

    found = discovery.plugins()
    if name not in found.plugins:
        failures = [f for f in found.failures if f.name == name]
        detail = f": {failures[0].error}" if failures else ""
        raise AssertionError(f"plugin {name!r} is not registered{detail}")
    return [check_method(method) for method in found.plugins[name].methods]
