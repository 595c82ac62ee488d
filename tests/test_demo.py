"""The main job: ``zoo demo`` trains, pushes to the embedded hub, pulls back by pinned revision and writes a report
a researcher can read: real inputs, a caption on every figure, every metric with its direction and meaning, each
method linked to its card, one section per family.

Runs the demo for SAC only (the cheapest method) to keep the suite short; the full demo is the README's first
command. A second run must reuse the pinned revision instead of training again.
"""
from __future__ import annotations

import importlib.util
import json
import math
import re
import sys
from pathlib import Path

import pytest

import zoo
from zoo import discovery
from zoo.demo import Recipe, run_demo
from zoo.demo.figures import history_figure
from zoo.demo.metrics import describe
from zoo.demo.recipes import BUILTIN, all_recipes, select
from zoo.specs import is_commit_sha


def test_demo_round_trip_reuse_and_a_readable_report(tmp_path: Path) -> None:
    out, hub = tmp_path / "demo", tmp_path / "hub"
    report = run_demo(out, ["sac"], hub_root=hub)
    text = report.read_text()
    page = (out / "report.html").read_text()
    state = json.loads((out / "state.json").read_text())["sac"]
    assert is_commit_sha(state["revision"]) and state["reload_identical"] is True
    assert state["metrics"]["top1_accuracy"] > 0.9  # digits, 10 classes
    assert f"zoo-demo/sac-tiny@{state['revision'][:12]}" in text and "| yes |" in text

    assert "## Classification" in text and "### SAC" in text  # a section per family
    assert "[sac](cards/sac.md)" in text and (out / "cards" / "sac.md").read_text().startswith("#")
    assert "top1_accuracy ↑" in text and "(not described)" not in text  # every metric: direction and meaning
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)\n\n\*([^*]+)\*", text)
    assert len(figures) >= 2 and all(len(caption) > 40 for _, caption in figures)  # every figure captioned
    assert page.count("<figure>") == page.count("<figcaption>") == len(figures)
    assert all((out / path).is_file() for path, _ in figures)
    digits = [c for p, c in figures if p.endswith("test_digits_attention.png")]
    assert digits and "real test digits" in digits[0] and "true label" in digits[0]  # real inputs, true labels

    again = run_demo(out, ["sac"], hub_root=hub).read_text()
    assert "(reused)" in again  # pulled from the cache by the pinned revision, not retrained
    assert json.loads((out / "state.json").read_text())["sac"]["revision"] == state["revision"]


def test_curves_skip_missing_values_and_name_constant_series(tmp_path: Path) -> None:
    nan = math.nan
    history = {"loss": [2.0 - 0.02 * i for i in range(60)], "accuracy": [nan] * 59 + [0.8],
               "lr": [0.05] * 60, "bytes": [nan] * 60}
    figure = history_figure(history, tmp_path / "curves.png", "multigraph-fl-tiny")
    assert figure is not None and figure.path.is_file()
    assert "accuracy ↑ (1 evaluations)" in figure.caption and "loss ↓" in figure.caption
    assert "Constant throughout (not drawn): lr = 0.05" in figure.caption and "bytes" not in figure.caption
    assert history_figure({"lr": [0.1] * 5}, tmp_path / "flat.png", "x") is None


def test_one_representative_per_family_by_default_and_every_family_on_demand() -> None:
    recipes = all_recipes({r.method for r in BUILTIN})
    default = select(recipes)
    families = {r.family for r in recipes}
    assert sorted(r.family for r in default) == sorted(families)
    assert all(r.representative for r in default)
    assert {r.method for r in select(recipes, family="federated learning")} >= {"multigraph-fl", "fedavg"}
    assert len(select(recipes, everything=True)) == len(recipes)
    with pytest.raises(zoo.errors.ConfigError, match="families"):
        select(recipes, family="astrology")


def test_every_metric_of_the_demo_methods_is_described() -> None:
    """The metrics the released weights of the demo's methods record all have a direction and a meaning."""
    from zoo.weights import shipped

    recipes = {r.method: r for r in BUILTIN}
    names = {(m, s.method) for s in shipped.releases() if s.method in recipes
             for values in s.record.metrics.values() for m in values}
    assert names
    assert not [(m, method) for m, method in names if describe(m, recipes[method].metrics) is None]


def test_a_plugin_registers_its_demo_recipe_without_editing_the_demo(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "zoo_tests_demo_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "demo.py").write_text(
        "from zoo.demo import Recipe\n"
        "def recipes():\n"
        "    return [Recipe('digits-cnn', 'tiny', 'digits', 20, 'Digits CNN', 'toy family', representative=True)]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "0")
    spec = importlib.util.spec_from_file_location(
        "zoo_tests_digits_plugin", Path(__file__).parent / "engines" / "digits_plugin.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    module.package = "zoo_tests_demo_pkg"  # where an SDK plugin's demo module is looked for
    discovery.register_plugin(module, "digits_cnn_demo")
    try:
        recipes = all_recipes({"digits-cnn", "sac"})
        assert [r.family for r in recipes] == ["classification", "toy family"]
        assert isinstance(recipes[-1], Recipe) and recipes[-1] in select(recipes)
    finally:
        discovery.unregister_plugin("digits_cnn_demo")
