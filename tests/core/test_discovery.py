"""Plugin discovery fails safely: broken plugins are reported, strict mode raises, collisions name both sides."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from zoo import discovery
from zoo.errors import NameCollisionError, PluginError
from zoo.hookspecs import hookimpl
from zoo.specs import InputSpec, MethodSpec, VariantSpec
from zoo.testing.distributions import fake_distribution


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
    return fake_distribution(
        tmp_path, "zoo-broken-plugin", {"broken": "zoo_broken_mod", "badhooks": "zoo_badhooks_mod"},
        {
            "zoo_broken_mod.py": "raise ImportError('this plugin is deliberately broken')\n",
            "zoo_badhooks_mod.py": "from zoo.hookspecs import hookimpl\n\n@hookimpl\n"
                                   "def zoo_build(method, config, wrong_argument):\n    return None\n",
        },
    )


def _path_with(site: Path) -> str:
    """``PYTHONPATH`` with ``site`` first (what the caller had stays behind it)."""
    return os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)


def _run(args: list[str], site: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = os.environ | {"PYTHONPATH": _path_with(site)} | env
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
    a = fake_distribution(tmp_path / "a", "dist-alpha", {"alpha": "alpha_mod"},
                                   {"alpha_mod.py": GOOD.format(name="same-name")})
    b = fake_distribution(tmp_path / "b", "dist-beta", {"beta": "beta_mod"},
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


# --- issue 19, items 6-8 and 12: no silent failures --------------------------------------------------------------

BROKEN_REGISTRY = """\
schema_version: 1
methods:
- {id: T1, name: broken-method, title: Broken, source: test, task: t, status: implemented, plugin: broken,
   variants: [tiny]}
- {id: T2, name: absent-method, title: Absent, source: test, task: t, status: implemented, plugin: absent,
   variants: [tiny]}
- {id: T3, name: later-method, title: Later, source: test, task: t, status: planned}
"""


def _python(code: str, site: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = os.environ | {"PYTHONPATH": _path_with(site)} | env
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ, timeout=120)


def test_zoo_list_warns_in_one_line_per_failed_plugin_and_exits_0(broken_site: Path) -> None:
    result = _run(["list", "--json"], broken_site, ZOO_STRICT_PLUGINS="0")
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)  # the warnings go to stderr: the JSON stays clean
    warnings = [line for line in result.stderr.splitlines() if line.startswith("zoo: warning:")]
    assert len(warnings) == 2, result.stderr
    broken = next(w for w in warnings if "'broken'" in w)
    assert "zoo-broken-plugin 0.0.1" in broken and "deliberately broken" in broken and "zoo doctor" in broken


def test_strict_mode_says_so_and_fails_only_what_touches_the_broken_plugin(broken_site: Path) -> None:
    listing = _run(["list"], broken_site, ZOO_STRICT_PLUGINS="1")
    assert listing.returncode == 4 and "strict mode" in listing.stderr and "zoo-broken-plugin" in listing.stderr
    other = _python("import zoo; m = zoo.build('protonet-tiny'); print(type(m).__name__)", broken_site,
                    ZOO_STRICT_PLUGINS="1")
    assert other.returncode == 0 and other.stdout.strip() == "ProtoNet", other.stderr


def test_a_method_of_a_failed_plugin_says_which_plugin_failed(broken_site: Path) -> None:
    (broken_site / "registry.yaml").write_text(BROKEN_REGISTRY)
    env = {"ZOO_STRICT_PLUGINS": "0", "ZOO_REGISTRY": str(broken_site / "registry.yaml")}
    built = _python("import zoo; zoo.build('broken-method')", broken_site, **env)
    assert "provided by plugin 'broken', which failed to load" in built.stderr
    assert "deliberately broken" in built.stderr and "did you mean" not in built.stderr
    trained = _run(["train", "broken-method", "--out", str(broken_site / "run")], broken_site, **env)
    assert trained.returncode == 4 and "which failed to load" in trained.stderr
    shown = _run(["info", "broken-method"], broken_site, **env)
    assert shown.returncode == 0 and "provided by plugin 'broken', which failed to load" in shown.stdout
    strict = _run(["info", "broken-method"], broken_site, **{**env, "ZOO_STRICT_PLUGINS": "1"})
    assert strict.returncode == 4 and "strict mode" in strict.stderr
    absent = _run(["info", "absent-method", "--json"], broken_site, **env)
    assert json.loads(absent.stdout)["status"] == "implemented (plugin not installed)"
    # item 18: the status filter is exact, so neither of them counts as implemented
    names = _python("import json, zoo; print(json.dumps([zoo.list_models(status=s) for s in ('implemented', "
                    "'implemented (plugin failed to load)', 'implemented (plugin not installed)')]))",
                    broken_site, **env)
    implemented, failed, absent_ = json.loads(names.stdout)
    assert "protonet" in implemented and not {"broken-method", "absent-method"} & set(implemented)
    assert failed == ["broken-method"] and absent_ == ["absent-method"]


def _colliding(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    fake_distribution(site, "dist-alpha", {"alpha": "alpha_mod"}, {"alpha_mod.py": GOOD.format(name="same-name")})
    fake_distribution(site, "dist-beta", {"beta": "beta_mod"}, {"beta_mod.py": GOOD.format(name="same-name")},
                      version="2.0")
    return site


def test_list_and_doctor_agree_on_a_collision_and_say_how_to_resolve_it(tmp_path: Path) -> None:
    site = _colliding(tmp_path)
    expected = discovery.collision_message("same-name", ("alpha (dist-alpha 0.0.1)", "beta (dist-beta 2.0)"))
    assert "uninstall one distribution" in expected and "ZOO_PROVIDERS=same-name=beta" in expected
    listing = _run(["list", "--json"], site, ZOO_STRICT_PLUGINS="0")
    assert listing.returncode == 0 and f"zoo: warning: {expected}" in listing.stderr.splitlines()
    doctor = _run(["doctor"], site, ZOO_STRICT_PLUGINS="0")
    assert doctor.returncode == 4 and f"  COLLISION  {expected}" in doctor.stdout.splitlines()
    assert doctor.stdout.count(expected) == 1  # said once (not also as a FAIL line)


def test_zoo_providers_pins_the_provider(tmp_path: Path) -> None:
    site = _colliding(tmp_path)
    listing = _run(["info", "same-name", "--json"], site, ZOO_PROVIDERS="same-name=beta")
    assert listing.returncode == 0 and "warning" not in listing.stderr, listing.stderr
    assert json.loads(listing.stdout)["plugin"] == "beta"


def _explode(model: object, data: object, options: object) -> None:
    raise RuntimeError("kaboom")


@pytest.fixture()
def exploding_plugin(tmp_path: Path) -> object:
    import torch

    from zoo.plugin import Input, Method, Plugin, Variant

    plugin = Plugin(Method(
        "boom", task="t", title="Boom", variants=[Variant("tiny", dict)], inputs=[Input("x", ("B", 2))],
        build=lambda config: torch.nn.Linear(2, 2), example_inputs=lambda: {"x": torch.zeros(1, 2)},
        infer=lambda model, inputs: model(inputs["x"]), train=_explode,
        make_data=lambda split: (torch.zeros(4, 2), torch.zeros(4)),
    ))
    discovery.register_plugin(plugin, "boomer")
    yield plugin
    discovery.unregister_plugin("boomer")


def test_an_exception_in_a_hook_is_a_plugin_error_naming_plugin_and_method(
        exploding_plugin: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from zoo.cli import main

    assert main(["train", "boom-tiny", "--out", str(tmp_path / "a"), "--no-progress", "--no-eval"]) == 4
    err = capsys.readouterr().err
    assert "plugin 'boomer'" in err and "'boom'" in err and "RuntimeError: kaboom" in err and "--debug" in err
    assert "Traceback" not in err
    assert main(["--debug", "train", "boom-tiny", "--out", str(tmp_path / "b"), "--no-progress", "--no-eval"]) == 4
    err = capsys.readouterr().err
    assert "Traceback" in err and "in _explode" in err and err.rstrip().splitlines()[-1].startswith("zoo: error:")


def test_zoo_debug_setting_shows_the_traceback_too(exploding_plugin: object, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from zoo.cli import main

    monkeypatch.setenv("ZOO_DEBUG", "1")
    assert main(["train", "boom-tiny", "--out", str(tmp_path / "c"), "--no-progress", "--no-eval"]) == 4
    assert "in _explode" in capsys.readouterr().err


def test_hook_tracing_setting(tmp_path: Path) -> None:
    traced = _python("import zoo; zoo.build('protonet-tiny')", tmp_path, ZOO_TRACE_HOOKS="1")
    assert traced.returncode == 0, traced.stderr
    assert "zoo_build [hook]" in traced.stderr and "method: protonet" in traced.stderr
    quiet = _python("import zoo; zoo.build('protonet-tiny')", tmp_path)
    assert "zoo_build" not in quiet.stderr
