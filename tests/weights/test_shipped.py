"""Shipped weights: every weight record with a shipped folder loads on a fresh machine with no network (from the
configured hub when it has it, else from the shipped copy, verified the same way) and reproduces its recorded
metric; seeding a hub is one command and gives the recorded revisions on any fresh hub."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import zoo
from zoo.api import seeded
from zoo.cli import main
from zoo.errors import HubError, IntegrityError
from zoo.weights import shipped
from zoo.weights.integrity import hash_file

RELEASES = shipped.releases()


def test_every_implemented_method_ships_weights_within_the_budget() -> None:
    assert shipped.total_bytes() < shipped.BUDGET_BYTES
    names = {r.method for r in RELEASES}
    assert names, "no shipped weights: run tools/release_weights.py --all"
    for item in RELEASES:
        assert sorted(p.name for p in item.folder.iterdir()) == sorted(shipped.FILES), item.name
        assert item.record.repo == shipped.repo_id(item.name)
        assert item.record.metrics and item.record.command.startswith("zoo train ")


@pytest.mark.parametrize("item", RELEASES, ids=[r.name for r in RELEASES])
def test_shipped_weights_load_offline_and_reproduce_their_metrics(
    item: shipped.Shipped, weights_env: Path, no_network: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    weights = item.folder / item.record.file
    assert (hash_file(weights)["sha256"], weights.stat().st_size) == (item.record.sha256, item.record.size)
    loaded = zoo.load(item.name, accept_license=item.record.license)
    assert shipped.is_shipped(loaded.record.path) and any("shipped with zoo" in n for n in loaded.notes)
    assert (loaded.record.sha256, loaded.record.revision) == (item.record.sha256, item.record.revision)
    ((dataset, recorded),) = item.record.metrics.items()
    with seeded(0):
        measured = zoo.evaluate(loaded.model, zoo.make_data(loaded.model, dataset, "test"))
    for metric, value in recorded.items():
        assert float(measured[metric]) == pytest.approx(value, rel=1e-4, abs=1e-6), (item.name, metric)
    assert no_network == []


def test_any_fresh_hub_gets_the_recorded_revisions(tmp_path: Path) -> None:
    subset = [r.name for r in RELEASES[:3]]
    for root in (tmp_path / "a", tmp_path / "b"):
        seeded_ = shipped.seed_hub(root, subset)
        assert [(s.repo, s.commit, s.action) for s in seeded_] == [
            (r.record.repo, r.record.revision, "imported") for r in RELEASES[:3]
        ]
    again = shipped.seed_hub(tmp_path / "a", subset)  # a second seeding leaves the hub as it is
    assert {s.action for s in again} == {"present"}


def test_hub_import_all_shipped_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hub", "import", "--all-shipped", "--root", str(tmp_path / "hub")]) == 0
    out = capsys.readouterr().out
    assert all(f"{r.record.repo}@{r.record.revision}" in out for r in RELEASES)
    assert f"{len(RELEASES)} shipped weight(s)" in out


def test_configured_hub_serves_them_and_a_hub_without_them_falls_back(
    weights_env: Path, hub_endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = RELEASES[0]
    served = zoo.load(item.name, accept_license=item.record.license)  # the session hub lacks the repo
    assert shipped.is_shipped(served.record.path)
    shipped.seed_hub(hub_endpoint.root, [item.name])  # now it has it: fetched from the hub into the cache
    from_hub = zoo.load(item.name, accept_license=item.record.license)
    assert not shipped.is_shipped(from_hub.record.path) and "snapshots" in from_hub.record.path.parts
    assert from_hub.record.sha256 == item.record.sha256


def test_a_tampered_shipped_copy_is_refused(tmp_path: Path, weights_env: Path, monkeypatch) -> None:
    item = RELEASES[0]
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    copy = tmp_path / "shipped"
    shutil.copytree(item.folder, copy / item.name)
    data = bytearray((copy / item.name / item.record.file).read_bytes())
    data[-1] ^= 1
    (copy / item.name / item.record.file).write_bytes(bytes(data))
    monkeypatch.setattr(shipped, "SHIPPED_DIR", copy)
    with pytest.raises(IntegrityError, match="sha256"):
        zoo.load(item.name, accept_license=item.record.license)


def test_seeding_refuses_a_repo_with_another_history(tmp_path: Path) -> None:
    item = RELEASES[0]
    from zoo.hub.server.importer import import_folder

    import_folder(tmp_path, item.folder, item.record.repo)  # same files, other date and author
    with pytest.raises(HubError, match="lacks the released commit"):
        shipped.seed_hub(tmp_path, [item.name])


def test_release_tool_edits_one_entry_of_registry_yaml_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("release_weights", Path(__file__).parents[2] / "tools" /
                                                  "release_weights.py")
    tool = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    monkeypatch.setitem(sys.modules, spec.name, tool)  # dataclasses look their module up there
    spec.loader.exec_module(tool)
    text = ("# a comment kept as it is\nschema_version: 1\nmethods:\n- id: A1\n  name: alpha\n  variants: [tiny]\n"
            "  weights: []\n- id: A2\n  name: beta  \n  weights:\n  - tag: old\n    variant: tiny\n    repo: x/y\n"
            "- id: A3\n  name: gamma\n")
    record = {"tag": "digits", "variant": "tiny", "repo": "zoo/beta-tiny.digits", "metrics": {"digits": {"a": 0.5}}}
    once = tool.set_record(text, "beta", record)
    twice = tool.set_record(once, "beta", {**record, "repo": "zoo/beta-tiny.digits2"})
    import yaml

    doc = yaml.safe_load(twice)["methods"]
    assert doc[0] == {"id": "A1", "name": "alpha", "variants": ["tiny"], "weights": []}
    assert [w["tag"] for w in doc[1]["weights"]] == ["digits", "old"]  # replaced, not appended twice
    assert doc[1]["weights"][0]["repo"] == "zoo/beta-tiny.digits2" and doc[2] == {"id": "A3", "name": "gamma"}
    assert twice.startswith("# a comment kept as it is\n")
    assert tool.RECIPES.keys() >= {"sac", "gcd", "gdancer", "multigraph-fl", "fadnet", "cdl", "glamor-net", "ldl-va",
                                   "cfor", "fedavg", "fedprox", "scaffold", "auglocal", "man", "dgl"}
