"""Git objects for hub content: the ids of trees and commits are those ``git`` itself would compute.

A hub commit is a real git commit: its tree lists every file (regular files as their content, LFS files as their
git-lfs pointer file), and its id is the sha1 of the git commit object built from tree, parent, author, time and
message. The same files and metadata therefore always give the same 40-hex id, on any hub (``zoo hub import
--date``), and ``git clone`` over :mod:`zoo.hub.server.routes_git` shows exactly these ids.

Only the object *formats* live here (hashlib, no git library): the git server wraps these raw bytes in dulwich
objects.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

FILE_MODE = b"100644"
TREE_MODE = b"40000"
#: Author e-mail domain of hub commits (``name <name@zoo-hub>``): fixed, so commit ids are reproducible.
EMAIL_DOMAIN = "zoo-hub"


def object_id(kind: bytes, raw: bytes) -> str:
    """The git object id (sha1 hex) of ``raw`` stored as an object of ``kind`` (blob, tree, commit)."""
    return hashlib.sha1(kind + b" %d\x00" % len(raw) + raw).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The git-lfs pointer file standing for an LFS object in git trees."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


@dataclass(frozen=True)
class TreeObject:
    """One git tree: its folder path in the repo ('' for the root), id and raw serialisation."""

    path: str
    oid: str
    raw: bytes


def build_trees(files: Mapping[str, str]) -> list[TreeObject]:
    """Every git tree of a flat ``{path: blob id}`` listing, children before parents; the root tree is last.

    Entries are ordered as git orders them (a folder ``a`` sorts as ``a/``), so the ids equal git's.
    """
    children: dict[str, dict[str, tuple[bytes, str]]] = {"": {}}
    for path, oid in files.items():
        parts = path.split("/")
        for depth in range(1, len(parts)):
            children.setdefault("/".join(parts[:depth]), {})
        folder, _, name = path.rpartition("/")
        children[folder][name] = (FILE_MODE, oid)
    out: list[TreeObject] = []
    # deepest folders first, so that each parent sees its children's ids; the root comes last
    for folder in sorted(children, key=lambda p: -(p.count("/") + 1) if p else 0):
        raw = _tree_raw(children[folder])
        oid = object_id(b"tree", raw)
        out.append(TreeObject(folder, oid, raw))
        if folder:
            parent, _, name = folder.rpartition("/")
            children[parent][name] = (TREE_MODE, oid)
    return out


def _tree_raw(entries: Mapping[str, tuple[bytes, str]]) -> bytes:
    def key(name: str) -> bytes:
        mode, _ = entries[name]
        encoded = name.encode("utf-8")
        return encoded + b"/" if mode == TREE_MODE else encoded

    return b"".join(
        entries[name][0] + b" " + name.encode("utf-8") + b"\x00" + bytes.fromhex(entries[name][1])
        for name in sorted(entries, key=key)
    )


def tree_id(files: Mapping[str, str]) -> str:
    """The git id of the root tree of a flat ``{path: blob id}`` listing."""
    return build_trees(files)[-1].oid


def signature(author: str, timestamp: int) -> bytes:
    """``name <name@zoo-hub> 1700000000 +0000``: git's author/committer line (always UTC)."""
    return f"{author} <{author}@{EMAIL_DOMAIN}> {int(timestamp)} +0000".encode()


def commit_message(title: str, description: str) -> bytes:
    """The commit message: the title, then a blank line and the description when there is one."""
    text = title.rstrip("\n") + "\n"
    if description.strip():
        text += "\n" + description.rstrip("\n") + "\n"
    return text.encode("utf-8")


def commit_raw(tree: str, parent: str | None, author: str, timestamp: int, title: str, description: str) -> bytes:
    """The raw git commit object (author = committer)."""
    lines = [b"tree " + tree.encode()]
    if parent:
        lines.append(b"parent " + parent.encode())
    who = signature(author, timestamp)
    lines += [b"author " + who, b"committer " + who]
    return b"\n".join(lines) + b"\n\n" + commit_message(title, description)


def commit_id(tree: str, parent: str | None, author: str, timestamp: int, title: str, description: str) -> str:
    """The git id of a hub commit."""
    return object_id(b"commit", commit_raw(tree, parent, author, timestamp, title, description))


def iter_blob_ids(entries: Iterator[tuple[str, str, int, str, bool]]) -> dict[str, str]:
    """``{path: git blob id}`` from ``(path, sha256, size, git_sha1, lfs)`` rows (LFS files as their pointer)."""
    return {
        path: object_id(b"blob", lfs_pointer(sha256, size)) if lfs else git_sha1
        for path, sha256, size, git_sha1, lfs in entries
    }
