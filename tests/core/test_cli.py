"""The command line: listing, info, exit codes, and that listing stays light."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from zoo.cli import main


def test_list_json_has_the_whole_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    seeds = [r for r in rows if (r["source"] or "").startswith("seed ")]
    assert len(seeds) == 154
    assert {r["status"] for r in rows} >= {"planned", "not-applicable"}


def test_list_filters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "fed*", "--json", "--task", "federated"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(r["name"].startswith("fed") and "federated" in r["task"] for r in rows)


def test_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--source", "seed 002"]) == 0
    out = capsys.readouterr().out
    assert "zoo catalogue: 46 entries" in out


def test_info_and_unknown_name_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "fdea-dataset", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["status"] == "not-applicable" and record["reason"]
    assert main(["info", "fdea-datset"]) == 3
    assert "did you mean 'fdea-dataset'" in capsys.readouterr().err


def _light_env() -> dict[str, str]:
    """The environment for a "stays light" check: without ``ZOO_STRICT_PLUGINS`` (CI sets it), because under strict
    mode a plugin that fails to import makes listing fail, which is another claim (tested in
    tests/core/test_discovery.py); here it would hide whether torch was imported."""
    import os

    return {k: v for k, v in os.environ.items() if k != "ZOO_STRICT_PLUGINS"}


def test_import_and_listing_do_not_import_torch() -> None:
    code = ("import sys, zoo; names = zoo.list_models(); "
            "assert 'torch' not in sys.modules, 'torch imported'; "
            "deep = [m for m in sys.modules if m.startswith('zoo_plugins.') and m.count('.') > 1]; "
            "assert not deep, f'plugin modules imported by listing: {deep}'; "
            "print(len(names))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            env=_light_env())
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.strip().splitlines()[-1]) >= 154, result.stdout[-2000:]


def test_zoo_list_command_does_not_import_torch() -> None:
    code = ("import sys, io, contextlib; from zoo.cli import main; "
            "buf = io.StringIO(); ctx = contextlib.redirect_stdout(buf); ctx.__enter__(); rc = main(['list']); "
            "ctx.__exit__(None, None, None); assert rc == 0 and 'torch' not in sys.modules, sorted(sys.modules)[:5]")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            env=_light_env())
    assert result.returncode == 0, result.stderr[-3000:]
