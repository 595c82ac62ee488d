"""Packaging: the wheel and the sdist build without setuptools warnings, carry the licence (SPDX expression and
the LICENSE file) and the shipped weights, and the sdist holds what it takes to run the test suite from it.

Builds from a copy of the tracked and new files (never in the working tree: a build leaves ``zoo.egg-info`` there,
which would shadow the installed entry points).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    src = tmp_path_factory.mktemp("src")
    for rel in listed:
        path = ROOT / rel
        if path.is_file() or path.is_symlink():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, src / rel, follow_symlinks=False)
    out = tmp_path_factory.mktemp("dist")
    wheel = subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-v",
                            "-w", str(out)], cwd=src, capture_output=True, text=True, timeout=900)
    sdist = subprocess.run([sys.executable, "setup.py", "sdist", "-d", str(out)], cwd=src, capture_output=True,
                           text=True, timeout=900)
    assert wheel.returncode == 0, wheel.stderr[-3000:]
    assert sdist.returncode == 0, sdist.stderr[-3000:]
    return {"log": wheel.stdout + wheel.stderr + sdist.stdout + sdist.stderr,
            "wheel": next(out.glob("*.whl")), "sdist": next(out.glob("*.tar.gz"))}


def test_no_setuptools_warning_about_data_folders(built: dict[str, object]) -> None:
    assert "would be ignored" not in str(built["log"]) and "absent from the `packages`" not in str(built["log"])
    assert "License classifiers are deprecated" not in str(built["log"])


def test_wheel_carries_the_licence_and_the_shipped_weights(built: dict[str, object]) -> None:
    with zipfile.ZipFile(built["wheel"]) as wheel:  # type: ignore[arg-type]
        names = wheel.namelist()
        meta = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: Apache-2.0" in meta
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert any(n.startswith("zoo/weights/shipped/") and n.endswith("/model.safetensors") for n in names)
    assert any(n.startswith("zoo_plugins/cfor/ontologies/") for n in names)


def test_sdist_holds_the_test_suite(built: dict[str, object]) -> None:
    with tarfile.open(built["sdist"]) as sdist:  # type: ignore[arg-type]
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    assert {"LICENSE", "conftest.py", "constraints.txt", "registry.yaml", "tests/test_readme.py",
            "tests/core/test_cli.py"} <= names
    assert any(n.startswith("plugins/") and "/tests/" in n for n in names)
    assert any(n.startswith("zoo/weights/shipped/") for n in names)
    assert (ROOT / "LICENSE").read_text().lstrip().startswith("Apache License")
