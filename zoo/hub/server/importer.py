"""``zoo hub import DIR org/name``: seed a repo on a hub root from a local folder, as one commit.

Works directly on the storage (no server needed; safe while a server runs on the same root: the commit is one
SQLite transaction with a compare-and-swap on the branch head).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from zoo.errors import HubError
from zoo.hub.server.config import MiB
from zoo.hub.server.errors import HubRequestError
from zoo.hub.server.gitattributes import is_lfs, parse_lfs_rules
from zoo.hub.server.storage import GITATTRIBUTES, AddFile, Commit, Storage
from zoo.hub.server.validation import split_repo_id, validate_path, validate_repo_type, validate_revision

SKIPPED_DIRS = frozenset({".git", ".cache", "__pycache__"})
DEFAULT_RULES = parse_lfs_rules(GITATTRIBUTES.decode())


@dataclass(frozen=True)
class ImportResult:
    """What an import did: the repo id, the new commit, how many files and bytes it committed."""

    repo_id: str
    commit: Commit
    files: int
    bytes: int
    created: bool


def _files(folder: Path) -> list[tuple[str, Path]]:
    """``(path in repo, file)`` for every regular file under ``folder`` (symlinks refused, caches skipped)."""
    found: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        for name in sorted(filenames):
            full = Path(dirpath) / name
            rel = full.relative_to(folder).as_posix()
            if full.is_symlink():
                raise HubError(f"refusing to import symlink {rel}: copy the file it points to instead")
            if full.is_file():
                found.append((rel, full))
    return found


def import_folder(
    root: Path,
    folder: Path,
    repo_id: str,
    *,
    repo_type: str = "model",
    branch: str = "main",
    private: bool = False,
    message: str | None = None,
    author: str = "zoo-import",
    lfs_threshold: int = 10 * MiB,
    date: int | None = None,
) -> ImportResult:
    """Commit every file of ``folder`` to ``repo_id`` on the hub stored at ``root`` (creating the repo if needed).

    Commit ids are git commit ids: with a fixed ``date`` (seconds), ``author`` and ``message``, importing the same
    files into a new repo gives the same commit id on any hub (the repo's initial commit is dated ``date`` too).
    Files at or above ``lfs_threshold`` or matching the default ``.gitattributes`` LFS patterns are LFS files.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise HubError(f"cannot import {folder}: not a folder")
    try:
        repo_type = validate_repo_type(repo_type)
        ns, name = split_repo_id(repo_id)
        branch = validate_revision(branch)
        files = [(validate_path(rel), full) for rel, full in _files(folder)]
    except HubRequestError as exc:
        raise HubError(f"cannot import {folder} into {repo_id}: {exc.message}") from exc
    storage = Storage(Path(root))
    try:
        repo = storage.get_repo(repo_type, ns, name)
        created = repo is None
        if repo is None:
            repo = storage.create_repo(repo_type, ns, name, private=private, author=author, created_at=date)
        operations = []
        total = 0
        for rel, full in files:
            size = full.stat().st_size
            writer = storage.blobs.writer(size)
            try:
                with open(full, "rb") as handle:
                    while chunk := handle.read(4 * MiB):
                        writer.write(chunk)
            except BaseException:
                writer.abort()
                raise
            blob = writer.commit()
            storage.record_blob(blob, repo)
            operations.append(AddFile(rel, blob, lfs=size >= lfs_threshold or is_lfs(rel, DEFAULT_RULES)))
            total += size
        try:
            commit = storage.commit(
                repo,
                branch,
                operations,
                title=message or f"Import {folder.name}",
                message="",
                author=author,
                created_at=date,
            )
        except HubRequestError as exc:
            raise HubError(f"cannot import {folder} into {repo_id}: {exc.message}") from exc
        return ImportResult(repo.repo_id, commit, len(operations), total, created)
    finally:
        storage.close()
