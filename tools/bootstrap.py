"""Set up (or reuse) the project's virtual environment, then run the main job or the test suite.

    python3 tools/bootstrap.py demo      # the main job: `zoo demo`, end to end on the embedded defaults
    python3 tools/bootstrap.py test      # the test suite (what CI runs)

Needs only Python >= 3.10 and pip. The environment lives in ``.venv`` beside this repository. ``demo`` installs
zoo with the ``demo`` extra (what the main job needs: no Triton, no Ray); ``test`` installs the ``ci`` extra (every
library some test needs, Triton for the kernel parity tests and Flower with Ray included) plus the example plugin.
An environment is reinstalled only when ``pyproject.toml``, ``setup.py``, ``constraints.txt`` or the example
plugin's metadata change, or when ``test`` needs more than ``demo`` installed. Extra arguments after the command
are passed on (``test -k hub``, ``test -n 0`` for one process, ``demo --all``). The tests run on two
pytest-xdist workers by default.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
STAMP = VENV / ".zoo-install-stamp"
INPUTS = ("pyproject.toml", "setup.py", "constraints.txt", "examples/third_party_plugin/pyproject.toml")


def _python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _digest() -> str:
    """A digest of every file that decides what gets installed."""
    h = hashlib.sha256()
    for rel in INPUTS:
        h.update(rel.encode())
        h.update((ROOT / rel).read_bytes())
    return h.hexdigest()


def _pip(*args: str) -> None:
    cmd = [str(_python()), "-m", "pip", "install", "--disable-pip-version-check", "-c",
           str(ROOT / "constraints.txt"), *args]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT)


#: The extra each command installs; a profile also satisfies the commands of the profiles it contains.
PROFILES = {"demo": "demo", "test": "ci"}
CONTAINS = {"demo": {"demo"}, "ci": {"demo", "ci"}}


def ensure_environment(command: str) -> None:
    """Create ``.venv`` if missing and install zoo (editable) with the extra ``command`` needs, plus the example
    plugin; nothing is installed when the stamp says an installation with the same inputs covers it."""
    if not _python().exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest, wanted = _digest(), PROFILES[command]
    recorded = STAMP.read_text().split() if STAMP.exists() else []
    if len(recorded) == 2 and recorded[0] == digest and wanted in CONTAINS.get(recorded[1], set()):
        return
    _pip("-e", f".[{wanted}]")
    _pip("--no-deps", "-e", "examples/third_party_plugin")
    STAMP.write_text(f"{digest} {wanted}\n")


def main(argv: list[str]) -> int:
    """Dispatch ``demo`` or ``test``; returns the exit code of what ran."""
    if not argv or argv[0] not in ("demo", "test"):
        print(__doc__)
        return 2
    ensure_environment(argv[0])
    env = dict(os.environ)
    bindir = str(_python().parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    if argv[0] == "demo":
        cmd = [str(_python()), "-m", "zoo", "demo", *argv[1:]]
    else:
        env.setdefault("ZOO_STRICT_PLUGINS", "1")
        # two pytest-xdist workers (the suite is xdist-safe: temp folders from tmp_path, hubs on free ports);
        # a later `-n N` among the extra arguments wins, `-n 0` runs in one process
        cmd = [str(_python()), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", *argv[1:]]
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
