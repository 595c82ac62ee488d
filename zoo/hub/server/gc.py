"""Garbage collection (``zoo hub gc``): free the blobs and xorbs nothing references any more.

Safe while a server runs on the same root, and after a crash at any point:

1. One SQLite write transaction (it holds the database's write lock, so no commit interleaves) decides what is
   dead and deletes its *rows*: commits unreachable from every branch and tag, trees no commit uses, blobs no tree
   lists, Xet files no blob uses, xorbs no Xet file uses. Anything touched within the grace period is kept: an
   upload whose commit has not arrived yet refreshes ``last_seen`` (blobs) or ``created_at`` (xorbs) when it is
   stored *and* when a client is told it can skip it, so it is never taken away under a client.
2. After that commit, the files of the deleted rows are unlinked. A crash in between leaves files without rows.
3. Files without a row (left by step 2, or by a crash between writing a file and recording it) are unlinked once
   older than the grace period.

A referenced blob always has a row (commits check it in their own transaction), and rows are deleted only when
unreferenced in step 1's transaction: a blob still referenced is never freed.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from zoo.hub.server.storage import Storage
from zoo.hub.server.xet.store import XetStore

#: Default grace period: content touched more recently than this is never collected.
DEFAULT_GRACE_SECONDS = 3600.0


@dataclass
class GcReport:
    """What a collection removed (or would remove, with ``dry_run``)."""

    commits: int = 0
    trees: int = 0
    blobs: int = 0
    xorbs: int = 0
    orphan_files: int = 0
    bytes_freed: int = 0
    kept_recent: int = 0
    paths: list[Path] = field(default_factory=list, repr=False)


def _reachable_commits(tx, repo_id: int) -> set[str]:
    parents = dict(tx.execute("SELECT oid, parent FROM commits WHERE repo=?", (repo_id,)).fetchall())
    seen: set[str] = set()
    for (target,) in tx.execute("SELECT target FROM refs WHERE repo=?", (repo_id,)).fetchall():
        oid = target
        while oid and oid not in seen and oid in parents:
            seen.add(oid)
            oid = parents[oid]
    return seen


def collect(root: Path, *, grace_seconds: float = DEFAULT_GRACE_SECONDS, dry_run: bool = False) -> GcReport:
    """Collect garbage in the hub stored at ``root``; returns what was (or would be) freed."""
    storage = Storage(Path(root))
    try:
        xet = XetStore(storage)
        report = GcReport()
        cutoff = time.time() - grace_seconds
        doomed: list[Path] = []
        with storage._write() as tx:
            # commits no ref reaches (deleted branches), once old enough
            for (repo_id,) in tx.execute("SELECT id FROM repos").fetchall():
                live = _reachable_commits(tx, repo_id)
                for oid, created in tx.execute(
                    "SELECT oid, created_at FROM commits WHERE repo=?", (repo_id,)
                ).fetchall():
                    if oid not in live and created < cutoff:
                        report.commits += 1
                        if not dry_run:
                            tx.execute("DELETE FROM commits WHERE repo=? AND oid=?", (repo_id, oid))
            dead_trees = [r[0] for r in tx.execute(
                "SELECT oid FROM trees WHERE oid NOT IN (SELECT tree FROM commits)"
            ).fetchall()]
            report.trees = len(dead_trees)
            if not dry_run:
                for oid in dead_trees:
                    tx.execute("DELETE FROM tree_entries WHERE tree=?", (oid,))
                    tx.execute("DELETE FROM trees WHERE oid=?", (oid,))
            live_blobs = {r[0] for r in tx.execute(
                "SELECT DISTINCT e.sha256 FROM tree_entries e JOIN commits c ON c.tree = e.tree"
            )}
            live_xet: set[str] = set()
            for sha, size, last_seen, xet_hash in tx.execute(
                "SELECT sha256, size, last_seen, xet_hash FROM blobs"
            ).fetchall():
                if sha in live_blobs or (last_seen or 0) >= cutoff:
                    if sha not in live_blobs:
                        report.kept_recent += 1
                    if xet_hash:
                        live_xet.add(xet_hash)
                    continue
                report.blobs += 1
                path = storage.blobs.path(sha)
                if path.exists():
                    report.bytes_freed += size
                    doomed.append(path)
                if not dry_run:
                    tx.execute("DELETE FROM blobs WHERE sha256=?", (sha,))
                    tx.execute("DELETE FROM repo_objects WHERE sha256=?", (sha,))
            live_xorbs: set[str] = set()
            for file_hash, terms, created in tx.execute("SELECT hash, terms, created_at FROM xet_files").fetchall():
                if file_hash in live_xet or created >= cutoff:
                    live_xorbs.update(term[0] for term in json.loads(terms))
                elif not dry_run:
                    tx.execute("DELETE FROM xet_files WHERE hash=?", (file_hash,))
            for xorb, size, created in tx.execute("SELECT hash, bytes, created_at FROM xorbs").fetchall():
                if xorb in live_xorbs or created >= cutoff:
                    continue
                report.xorbs += 1
                report.bytes_freed += size
                doomed.append(xet.path(xorb))
                if not dry_run:
                    tx.execute("DELETE FROM xorb_chunks WHERE xorb=?", (xorb,))
                    tx.execute("DELETE FROM xorbs WHERE hash=?", (xorb,))
            if dry_run:
                tx.execute("SELECT 1")  # nothing changed; the transaction still commits cleanly
        report.paths = doomed
        if dry_run:
            return report
        for path in doomed:  # rows are gone and committed: the files are unreachable now
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        report.orphan_files = _sweep_orphans(storage, xet, cutoff)
        return report
    finally:
        storage.close()


def _sweep_orphans(storage: Storage, xet: XetStore, cutoff: float) -> int:
    """Unlink blob and xorb files that have no row and are older than the cutoff."""
    conn = storage._conn()
    removed = 0
    for folder, table, column in ((storage.blobs.blob_dir, "blobs", "sha256"), (xet.dir, "xorbs", "hash")):
        for path in folder.glob("??/??/*"):
            try:
                if path.stat().st_mtime >= cutoff:
                    continue
            except FileNotFoundError:
                continue
            row = conn.execute(f"SELECT 1 FROM {table} WHERE {column}=?", (path.name,)).fetchone()  # noqa: S608
            if row is None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                    removed += 1
    return removed
