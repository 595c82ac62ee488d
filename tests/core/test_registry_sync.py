"""Issue 19, item 14: registry.yaml and a plugin's declaration are checked field by field (title, task, licence,
variants, status), so the catalogue cannot drift from the code that builds the method."""
from __future__ import annotations

from pathlib import Path

import pytest

from zoo import registry

PROTONET_ENTRY = """\
schema_version: 1
methods:
- {{id: E1, name: protonet, title: {title}, source: example, task: {task}, status: {status}, plugin: protonet,
   license: {license}, variants: {variants}}}
"""
DECLARED = {"title": "'Prototypical Networks for Few-shot Learning (Snell et al., 2017), example plugin'",
            "task": "classification", "status": "implemented", "license": "MIT", "variants": "[tiny, paper]"}


def _catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **fields: str) -> None:
    path = tmp_path / "registry.yaml"
    path.write_text(PROTONET_ENTRY.format(**{**DECLARED, **fields}))
    monkeypatch.setenv("ZOO_REGISTRY", str(path))


def test_an_entry_that_agrees_has_no_mismatch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _catalogue(tmp_path, monkeypatch)
    assert registry.mismatches() == []


def test_every_field_that_differs_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _catalogue(tmp_path, monkeypatch, title="ProtoNet", task="few-shot", license="Apache-2.0",
               variants="[tiny, big]", status="planned")
    problems = registry.mismatches()
    assert len(problems) == 5, problems
    assert problems[0] == ("protonet: title 'ProtoNet' in registry.yaml, 'Prototypical Networks for Few-shot "
                           "Learning (Snell et al., 2017), example plugin' declared by plugin 'protonet'")
    assert any("task 'few-shot'" in p and "'classification'" in p for p in problems)
    assert any("license 'Apache-2.0'" in p for p in problems)
    assert any("variants ['tiny', 'big']" in p and "['tiny', 'paper']" in p for p in problems)
    assert any("status 'planned'" in p for p in problems)


def test_the_declaration_is_what_zoo_shows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugin's declaration is the source of truth for an installed method; the catalogue copy only shows
    methods whose plugin is not installed."""
    _catalogue(tmp_path, monkeypatch, title="ProtoNet", task="few-shot")
    info = registry.info("protonet")
    assert (info.title, info.task) == (DECLARED["title"].strip("'"), "classification")


def test_registry_yaml_agrees_with_every_installed_declaration() -> None:
    problems = registry.mismatches()
    assert not problems, "registry.yaml disagrees with the plugins' declarations:\n" + "\n".join(problems)
