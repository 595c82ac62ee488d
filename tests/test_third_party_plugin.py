"""The example third-party distribution (examples/third_party_plugin) is discovered, conforms and passes its own
tests.

CI installs it (``pip install -e examples/third_party_plugin``) before running the suite, exactly as a user
would install a plugin distribution.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import zoo
import zoo.testing
from zoo import discovery
from zoo.errors import UnknownModelError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "third_party_plugin"


def test_discovered_from_its_own_distribution() -> None:
    found = discovery.plugins()
    assert "protonet" in found.plugins, "install it: pip install -e examples/third_party_plugin"
    assert found.plugins["protonet"].dist == "zoo-protonet"
    assert "protonet" in zoo.list_models(status="implemented")


def test_passes_the_conformance_kit_card_included() -> None:
    (report,) = zoo.testing.check_plugin("protonet")
    assert report.checks == [
        "declaration and configs", "hook targets import", "build", "example inputs match the declared InputSpecs",
        "infer", "bad inputs raise InputError", "safetensors round trip gives identical outputs",
        "method card has the five sections"]


def test_declares_every_optional_hook() -> None:
    found = discovery.plugins()
    for hook in ("zoo_train", "zoo_evaluate", "zoo_make_data", "zoo_prepare_inputs", "zoo_save_outputs",
                 "zoo_preprocessing"):
        assert found.implements(hook, "protonet"), hook


def test_its_own_tests_pass() -> None:
    """The example ships its tests (conformance kit, equations, a training experiment, every hook)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
                            capture_output=True, text=True, env=env, cwd=EXAMPLE, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout


def test_unknown_variant_is_a_clear_error() -> None:
    with pytest.raises(UnknownModelError, match="protonet-tiny"):
        zoo.build("protonet-tine")
