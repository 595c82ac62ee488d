"""Issue 19, item 17: the helpers plugins import are public modules (zoo.io, zoo.compat, zoo.viz.mpl), the old
private names are deprecated aliases, the demo needs nothing from zoo.testing, and the fetch-and-quarantine retry
lives with the integrity checks."""
from __future__ import annotations

import hashlib
import importlib
import re
import sys
import warnings
from pathlib import Path

import pytest

import zoo.compat
import zoo.io
import zoo.viz.mpl
from zoo.errors import IntegrityError, WeightsError
from zoo.weights import integrity

ROOT = Path(__file__).resolve().parents[2]
PRIVATE = re.compile(r"\bzoo\._io\b|\bzoo\.viz\._mpl\b|\bzoo\._compat\b|from zoo import _io|from zoo\.viz import _mpl")
ALIASES = {"zoo/_io.py", "zoo/viz/_mpl.py", "zoo/_compat.py"}


@pytest.mark.parametrize(("old", "new", "names"), [
    ("zoo._io", zoo.io, ("atomic_write_json", "atomic_directory", "atomic_open")),
    ("zoo.viz._mpl", zoo.viz.mpl, ("pyplot", "save_png")),
    ("zoo._compat", zoo.compat, ("import_timm", "import_torchvision", "ensure_torchvision_ops")),
])
def test_old_private_names_are_deprecated_aliases(old: str, new: object, names: tuple[str, ...]) -> None:
    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    assert any(issubclass(w.category, DeprecationWarning) and new.__name__ in str(w.message) for w in caught)
    for name in names:
        assert getattr(module, name) is getattr(new, name)


def test_nothing_in_the_project_imports_the_private_names() -> None:
    offenders = []
    for folder in ("zoo", "plugins", "examples", "benchmarks", "tools", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if rel in ALIASES or rel == "tests/core/test_public_modules.py" or "/." in rel:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            if PRIVATE.search(text):
                offenders.append(rel)
    assert not offenders, f"import zoo.io / zoo.compat / zoo.viz.mpl instead, in {offenders}"


def test_the_demo_does_not_need_the_testing_package() -> None:
    for path in (ROOT / "zoo" / "demo").glob("*.py"):
        assert "zoo.testing" not in path.read_text(encoding="utf-8"), path


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_corrupted_cached_file_is_quarantined_and_fetched_again(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    good = b"the real weights"
    cached = tmp_path / "cache" / "model.safetensors"
    cached.parent.mkdir()
    cached.write_bytes(b"bit-rotted bytes")
    fetches: list[int] = []

    def fetch() -> Path:
        fetches.append(1)
        if not cached.exists():
            cached.write_bytes(good)  # the second download brings a good copy
        return cached

    notes: list[str] = []
    path, digest = integrity.fetch_verified(fetch, describe=lambda p: "org/m@abc:model.safetensors",
                                            sha256=_digest(good), size=None, cached=lambda p: True, notes=notes)
    assert (path, digest, len(fetches)) == (cached, _digest(good), 2)
    quarantined = list((tmp_path / "home" / "quarantine").iterdir())
    assert len(quarantined) == 1 and quarantined[0].read_bytes() == b"bit-rotted bytes"
    assert "quarantined" in notes[0] and "fetched again and verified" in notes[1]


def test_a_bad_file_outside_the_cache_is_an_error_at_once(tmp_path: Path) -> None:
    local = tmp_path / "model.safetensors"
    local.write_bytes(b"abc")
    with pytest.raises(IntegrityError, match="expected sha256"):
        integrity.fetch_verified(lambda: local, describe=str, sha256="0" * 64, size=None, cached=lambda p: False,
                                 notes=[])
    assert local.exists()


def test_a_failed_refetch_says_where_the_bad_copy_went(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    cached = tmp_path / "model.safetensors"
    cached.write_bytes(b"bad")

    def fetch() -> Path:
        if not cached.exists():
            raise WeightsError("hub could not be reached")
        return cached

    with pytest.raises(IntegrityError, match="quarantined to .*fetching it again failed: hub could not be reached"):
        integrity.fetch_verified(fetch, describe=str, sha256="0" * 64, size=None, cached=lambda p: True, notes=[])
