"""The conformance kit: checks that a method plugin honours the zoo contract.

A plugin author calls :func:`check_plugin` (all methods of an entry point) or :func:`check_method` (one method)
in their own test suite::

    import zoo.testing

    def test_conforms():
        zoo.testing.check_method("my-method")

Each check raises :class:`AssertionError` with a precise message; the returned :class:`ConformanceReport` lists
what was checked. The checks: the declaration is well formed; every hook target of an SDK declaration imports and
takes only arguments its hook passes; every variant makes a config that round-trips through ``config.json``; the
``tiny`` variant builds; example inputs satisfy the declared ``InputSpec``s; inference runs; bad inputs (wrong
rank, wrong dtype, wrong fixed size, NaN, Inf, empty batch) raise :class:`~zoo.errors.InputError`; a safetensors
state-dict round trip gives identical outputs; the method card (the plugin's README) has the five sections of
:mod:`zoo.cards`.

The card check is on for every method except the built-in ones listed in :data:`CARD_PENDING`, whose cards are
being rewritten; a method leaves that list when its card is complete (then the kit keeps it complete).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from zoo import cards
from zoo.errors import InputError
from zoo.inference import outputs_equal
from zoo.specs import InputSpec, MethodSpec


#: Built-in methods whose method cards are still being rewritten to the five sections: the kit does not yet
#: fail on their cards (it notes what is missing). Every other method, built-in or third-party, is checked.
CARD_PENDING: frozenset[str] = frozenset()


@dataclass
class ConformanceReport:
    """What the kit checked for one method (``checks``: passed checks; ``notes``: what was not checked, and why)."""

    method: str
    checks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

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


def check_targets(method: str, report: ConformanceReport) -> None:
    """Every hook target of an SDK declaration imports and asks only for arguments its hook passes."""
    from zoo import discovery

    plugin = discovery.plugins().plugin_object(method)
    declared = getattr(plugin, "methods", {}).get(method)
    if declared is None:  # a hand-written pluggy plugin: pluggy validated its hook signatures at registration
        return
    for hook, target in declared.targets.items():
        try:
            target.resolve()
        except Exception as exc:  # ImportError, PluginError: say which target
            raise AssertionError(f"{method}: {hook} target {target.describe()} cannot be used: "
                                 f"{type(exc).__name__}: {exc}") from exc
    report.ok("hook targets import")


def check_card(method: str, report: ConformanceReport, *, required: bool = True) -> None:
    """The method card exists where the core looks for it and has the five sections of :mod:`zoo.cards`.

    With ``required=False`` a missing or incomplete card is recorded in ``report.notes`` instead of failing.
    """
    path = cards.card_path(method)
    if path is None:
        problem = (f"{method}: no method card found (a README.md in the declaring package, or the file its "
                   "Method(card=...) names; see docs/plugins.md)")
    else:
        missing = cards.missing_sections(path.read_text(encoding="utf-8"))
        expected = {name: what for name, what in cards.SECTIONS}
        problem = (f"{method}: method card {path} lacks the level-2 section(s) "
                   + "; ".join(f"'## {m}' ({expected[m]})" for m in missing)) if missing else ""
    if not problem:
        report.ok("method card has the five sections")
    elif required:
        raise AssertionError(problem)
    else:
        report.notes.append(f"card check pending: {problem}")


def check_method(method: str, variant: str = "tiny", *, card: bool | None = None) -> ConformanceReport:
    """Run every contract check on one installed method; raise ``AssertionError`` on the first failure.

    Args:
        method: the method name.
        variant: the variant to build (``tiny`` runs in seconds on a CPU).
        card: check the method card (default: yes, unless the method is in :data:`CARD_PENDING`).
    """
    import torch
    from safetensors.torch import load, save

    import zoo
    from zoo.registry import resolve
    from zoo.validation import validate_inputs

    report = ConformanceReport(method)
    spec = resolve(method).spec
    check_declaration(spec, report)
    check_targets(method, report)

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
    check_card(method, report, required=card if card is not None else method not in CARD_PENDING)
    return report


def check_plugin(name: str, *, card: bool | None = None) -> list[ConformanceReport]:
    """Check every method an installed plugin (entry-point name) declares (``card``: as in :func:`check_method`)."""
    from zoo import discovery

    found = discovery.plugins()
    if name not in found.plugins:
        failures = [f for f in found.failures if f.name == name]
        detail = f": {failures[0].error}" if failures else ""
        raise AssertionError(f"plugin {name!r} is not registered{detail}")
    return [check_method(method, card=card) for method in found.plugins[name].methods]
