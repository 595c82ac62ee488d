"""Seed a Hugging Face hub cache folder (``models--org--name/{blobs,refs,snapshots}``) from a model folder.

For tests and benchmarks that need a warm cache without a hub: the files are laid out exactly as
``hf_hub_download`` leaves them (weights blob named by sha256 as for LFS files, small files by their git blob id as
for regular files, snapshot symlinks relative to ``blobs/``, ``refs/<branch>`` holding the commit).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from zoo.io import atomic_write_text

LFS_SUFFIXES = (".safetensors", ".bin", ".pt")


def _git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\x00" % len(data) + data).hexdigest()  # noqa: S324 - git object id


def fake_commit(seed: str) -> str:
    """A deterministic 40-hex commit id for ``seed``."""
    return hashlib.sha1(seed.encode()).hexdigest()  # noqa: S324 - an identifier, not security


def seed_cache(
    cache_dir: str | Path,
    repo_id: str,
    folder: str | Path,
    *,
    commit: str | None = None,
    ref: str | None = "main",
    files: Iterable[str] | None = None,
    link: bool = False,
) -> Path:
    """Copy the files of ``folder`` into the cache as ``repo_id@commit`` (hard-link them when ``link``: faster,
    but then the blob and the source are one file).

    Returns the snapshot folder. ``commit`` defaults to a digest of the repo id and file contents.
    """
    src = Path(folder)
    names = sorted(files) if files is not None else sorted(p.name for p in src.iterdir() if p.is_file())
    storage = Path(cache_dir) / ("models--" + repo_id.replace("/", "--"))
    blobs = storage / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    digests: dict[str, str] = {}
    for name in names:
        path = src / name
        if name.endswith(LFS_SUFFIXES):
            h = hashlib.sha256()
            with open(path, "rb") as handle:
                for chunk in iter(lambda: handle.read(8 << 20), b""):
                    h.update(chunk)
            digests[name] = h.hexdigest()
        else:
            digests[name] = _git_blob_sha1(path.read_bytes())
    commit = commit or fake_commit(repo_id + "".join(digests[n] for n in names))
    snapshot = storage / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    for name in names:
        blob = blobs / digests[name]
        if not blob.exists():
            try:
                if not link:
                    raise OSError
                os.link(src / name, blob)
            except OSError:
                shutil.copyfile(src / name, blob)
        pointer = snapshot / name
        if pointer.is_symlink() or pointer.exists():
            pointer.unlink()
        pointer.symlink_to(os.path.relpath(blob, pointer.parent))
    if ref:
        (storage / "refs").mkdir(exist_ok=True)
        atomic_write_text(storage / "refs" / ref, commit)
    return snapshot
