"""Plugin discovery fails safely: broken plugins are reported, strict mode raises, collisions name both sides."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from zoo import discovery
from zoo.errors import NameCollisionError, PluginError
from zoo.hookspecs import hookimpl
from zoo.specs import InputSpec, MethodSpec, VariantSpec


def _install_fake_distribution(root: Path, dist: str, entry_points: dict[str, str], files: dict[str, str]) -> Path:
    """Lay out an installed distribution (dist-info with entry points + modules) under ``root``."""
    info = root / f"{dist.replace('-', '_')}-0.0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.0.1\n")
    lines = ["[zoo.plugins]"] + [f"{k} = {v}" for k, v in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for rel, text in files.items():
        (root / rel).write_text(textwrap.dedent(text))
    return root


class SimpleNamespace:
    """A hashable attribute bag (pluggy keeps plugins in sets)."""

    def __init__(self, **attrs: object) -> None:
        self.__dict__.update(attrs)


GOOD = """
    from zoo.hookspecs import hookimpl
    from zoo.specs import InputSpec, MethodSpec, VariantSpec

    @hookimpl
    def zoo_methods():
        return [MethodSpec(name="{name}", task="t", title="T", variants={{"tiny": VariantSpec("tiny", dict)}},
                           inputs=(InputSpec("x", ("B", 2)),))]

    @hookimpl
    def zoo_build(method, config):
        import torch
        return torch.nn.Linear(2, 2)

    @hookimpl
    def zoo_example_inputs(method, config):
        import torch
        return {{"x": torch.zeros(1, 2)}}

    @hookimpl
    def zoo_infer(method, model, inputs, options):
        return model(inputs["x"])
"""


@pytest.fixture()
def broken_site(tmp_path: Path) -> Path:
    return _install_fake_distribution(
        tmp_path, "zoo-broken-plugin", {"broken": "zoo_broken_mod", "badhooks": "zoo_badhooks_mod"},
        {
            "zoo_broken_mod.py": "raise ImportError('this plugin is deliberately broken')\n",
            "zoo_badhooks_mod.py": "from zoo.hookspecs import hookimpl\n\n@hookimpl\n"
                                   "def zoo_build(method, config, wrong_argument):\n    return None\n",
        },
    )


def _run(args: list[str], site: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = os.environ | {"PYTHONPATH": str(site)} | env
    return subprocess.run([sys.executable, "-m", "zoo", *args], capture_output=True, text=True, env=environ,
                          timeout=120)


def test_doctor_reports_a_broken_plugin_without_crashing(broken_site: Path) -> None:
    result = _run(["doctor", "--json"], broken_site, ZOO_STRICT_PLUGINS="0")
    assert result.returncode == 4, result.stderr
    report = json.loads(result.stdout)
    failures = {f["name"]: f for f in report["failures"]}
    assert failures["broken"]["dist"] == "zoo-broken-plugin"
    assert failures["broken"]["version"] == "0.0.1"
    assert "deliberately broken" in failures["broken"]["traceback"]
    assert failures["badhooks"]["stage"] == "validate"
    listing = _run(["list", "--json", "--status", "implemented"], broken_site, ZOO_STRICT_PLUGINS="0")
    assert listing.returncode == 0, listing.stderr  # the host keeps working


def test_strict_mode_fails_on_the_broken_plugin(broken_site: Path) -> None:
    result = _run(["list"], broken_site, ZOO_STRICT_PLUGINS="1")
    assert result.returncode == 4
    assert "zoo-broken-plugin" in result.stderr


def test_collision_names_both_distributions(tmp_path: Path) -> None:
    a = _install_fake_distribution(tmp_path / "a", "dist-alpha", {"alpha": "alpha_mod"},
                                   {"alpha_mod.py": GOOD.format(name="same-name")})
    b = _install_fake_distribution(tmp_path / "b", "dist-beta", {"beta": "beta_mod"},
                                   {"beta_mod.py": GOOD.format(name="same-name")})
    sys.path[:0] = [str(a), str(b)]
    try:
        from importlib import metadata

        eps = [ep for ep in metadata.entry_points(group="zoo.plugins") if ep.name in ("alpha", "beta")]
        found = discovery.discover(entry_points=eps, strict=False)
        with pytest.raises(NameCollisionError, match="dist-alpha.*dist-beta"):
            found.owner_of("same-name")
        with pytest.raises(NameCollisionError):
            discovery.discover(entry_points=eps, strict=True)
    finally:
        for p in (str(a), str(b)):
            sys.path.remove(p)
        for mod in ("alpha_mod", "beta_mod"):
            sys.modules.pop(mod, None)


def _one_method_spec() -> list[MethodSpec]:
    return [MethodSpec(name="declared", task="t", title="t", inputs=(InputSpec("x", ("B",)),),
                       variants={"tiny": VariantSpec("tiny", lambda: None)})]


def test_missing_required_hooks_is_a_validation_failure() -> None:
    incomplete = SimpleNamespace(zoo_methods=hookimpl(_one_method_spec))
    found = discovery.discover(entry_points=[], extra={"incomplete": incomplete}, strict=False)
    assert found.failures and "missing required hooks" in found.failures[0].error
    with pytest.raises(PluginError, match="missing required hooks"):
        discovery.discover(entry_points=[], extra={"incomplete": incomplete}, strict=True)


def test_a_tracker_plugin_without_methods_needs_no_method_hooks() -> None:
    events: list[str] = []
    tracker = SimpleNamespace(zoo_train_event=hookimpl(lambda event, state: events.append(event)))
    found = discovery.discover(entry_points=[], extra={"tracker": tracker}, strict=True)
    assert not found.failures and "tracker" in found.plugins
    found.manager.hook.zoo_train_event(event="on_train_start", state={})
    assert events == ["on_train_start"]


def test_a_misspelled_hook_is_rejected_even_without_strict_mode() -> None:
    typo = SimpleNamespace(zoo_methods=hookimpl(lambda: []), zoo_evalute=hookimpl(lambda method, model: None))
    found = discovery.discover(entry_points=[], extra={"typo": typo}, strict=False)
    assert found.failures and found.failures[0].stage == "validate" and "zoo_evalute" in found.failures[0].error
    assert "typo" not in found.plugins


def test_declaration_errors_are_caught() -> None:
    def bad_methods() -> list[object]:
        return ["not a MethodSpec"]

    plugin = SimpleNamespace(zoo_methods=hookimpl(bad_methods), zoo_build=hookimpl(lambda method, config: None),
                             zoo_example_inputs=hookimpl(lambda method, config: {}),
                             zoo_infer=hookimpl(lambda method, model, inputs, options: None))
    found = discovery.discover(entry_points=[], extra={"bad": plugin}, strict=False)
    assert found.failures[0].stage == "declare"


def test_calls_are_routed_to_the_owning_plugin_only() -> None:
    calls: list[str] = []

    def make(name: str) -> SimpleNamespace:
        spec = MethodSpec(name=name, task="t", title="T", variants={"tiny": VariantSpec("tiny", dict)},
                          inputs=(InputSpec("x", ("B",)),))
        return SimpleNamespace(
            zoo_methods=hookimpl(lambda: [spec]),
            zoo_build=hookimpl(lambda method, config: calls.append(f"{name}:{method}") or name),
            zoo_example_inputs=hookimpl(lambda method, config: {}),
            zoo_infer=hookimpl(lambda method, model, inputs, options: None),
        )

    found = discovery.discover(entry_points=[], extra={"one": make("m-one"), "two": make("m-two")})
    assert found.call("zoo_build", "m-one", config={}) == "m-one"
    assert found.call("zoo_build", "m-two", config={}) == "m-two"
    assert calls == ["m-one:m-one", "m-two:m-two"]
