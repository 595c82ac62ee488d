"""``zoo plugin new NAME`` (issue 19, item 2): a separate distribution that installs and passes its own tests.

The end-to-end test does what a plugin author does, in a temporary folder: ``zoo plugin new demo-method``, then
``pip install -e`` (``--no-deps --no-build-isolation``: offline and fast) into a fresh virtual environment layered
on this one (so the project's own environment never sees the new plugin), then the new distribution's tests.
"""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from zoo import scaffold
from zoo.cli import main


def test_the_files_of_a_new_plugin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugin", "new", "demo-method", "--dir", str(tmp_path)]) == 0
    root = tmp_path / "demo-method"
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == ["pyproject.toml", "tests/test_demo_method.py", "zoo_demo_method/README.md",
                     "zoo_demo_method/__init__.py", "zoo_demo_method/config.py", "zoo_demo_method/data.py",
                     "zoo_demo_method/infer.py", "zoo_demo_method/model.py", "zoo_demo_method/train.py"]
    pyproject = (root / "pyproject.toml").read_text()
    assert '[project.entry-points."zoo.plugins"]\ndemo-method = "zoo_demo_method:plugin"' in pyproject
    assert 'name = "zoo-demo-method"' in pyproject and 'zoo_demo_method = ["README.md"]' in pyproject
    declaration = (root / "zoo_demo_method" / "__init__.py").read_text()
    assert "import torch" not in declaration and 'Method(\n    "demo-method"' in declaration
    from zoo.cards import missing_sections

    assert missing_sections((root / "zoo_demo_method" / "README.md").read_text()) == []
    assert "pip install -e" in capsys.readouterr().out
    for path, text in scaffold.render("demo-method").items():  # every Python file compiles
        if path.endswith(".py"):
            compile(text, path, "exec")


def test_bad_names_and_existing_folders_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugin", "new", "Demo_Method", "--dir", str(tmp_path)]) == 2
    assert "lower-case words joined by hyphens" in capsys.readouterr().err
    (tmp_path / "taken").mkdir()
    assert main(["plugin", "new", "taken", "--dir", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert not list((tmp_path / "taken").iterdir())


def _layered_venv(folder: Path) -> Path:
    """A virtual environment whose site-packages also reads this environment's (zoo, torch, pytest...)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    python = folder / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    ours = sysconfig.get_path("purelib")
    (Path(purelib) / "zoo_parent_env.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    return python


@pytest.mark.slow
def test_a_new_plugin_installs_and_passes_its_own_tests(tmp_path: Path) -> None:
    assert main(["plugin", "new", "demo-method", "--dir", str(tmp_path)]) == 0
    root = tmp_path / "demo-method"
    python = _layered_venv(tmp_path / "venv")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONPATH": ""}
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-e", str(root)], capture_output=True, text=True, env=env, timeout=600)
    assert install.returncode == 0, install.stdout + install.stderr
    listed = subprocess.run([str(python), "-m", "zoo", "info", "demo-method", "--json"], capture_output=True,
                            text=True, env=env, timeout=300, cwd=tmp_path)
    assert listed.returncode == 0 and '"distribution": "zoo-demo-method"' in listed.stdout, listed.stderr
    tests = subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "tests")],
                           capture_output=True, text=True, env=env, timeout=900, cwd=root)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert "4 passed" in tests.stdout
