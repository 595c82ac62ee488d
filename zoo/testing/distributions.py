"""Installed-looking plugin distributions for tests: a ``*.dist-info`` with entry points, next to its modules.

Put the folder on ``sys.path`` (or ``PYTHONPATH`` of a subprocess) and :mod:`importlib.metadata` sees a
distribution exactly as ``pip install`` would leave it, so discovery, ``zoo list`` and ``zoo doctor`` can be tested
against broken or colliding plugins without installing anything::

    site = fake_distribution(tmp_path, "zoo-broken", {"broken": "zoo_broken_mod"},
                             {"zoo_broken_mod.py": "raise ImportError('deliberately broken')"})
"""
from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

from zoo.constants import ENTRY_POINT_GROUP


def fake_distribution(root: Path, dist: str, entry_points: Mapping[str, str], files: Mapping[str, str],
                      version: str = "0.0.1") -> Path:
    """Lay out distribution ``dist`` (its ``zoo.plugins`` entry points and module ``files``) under ``root``.

    Args:
        root: the folder to create (it becomes a ``sys.path`` entry).
        dist: the distribution name (``zoo-broken-plugin``).
        entry_points: ``{entry point name: "module[:attribute]"}``.
        files: ``{relative path: source}`` (dedented), e.g. the plugin modules.
        version: the distribution version.

    Returns:
        ``root``.
    """
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = [f"[{ENTRY_POINT_GROUP}]"] + [f"{name} = {value}" for name, value in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root
