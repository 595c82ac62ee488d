"""Repositories, commits, trees and refs in SQLite (WAL), on top of the content-addressed :mod:`blobs` store.

Model:
- a **blob** is a file's content, addressed by sha256 (its git blob sha1 is kept for the Hub's ``oid``);
- a **tree** is an immutable set of ``path -> (blob, lfs flag)`` entries, addressed by its git tree id;
- a **commit** is an immutable record (repo, parent, tree, title, message, author, time) whose id is the git commit
  id of those fields (:mod:`zoo.hub.server.gitobj`): the same files and metadata give the same id on any hub;
- a **ref** (branch or tag) points at a commit. Branch heads move only inside one SQLite transaction that also
  inserts the new tree and commit, under a per-repo lock, with a compare-and-swap on the previous head.

A commit is therefore all or nothing: blobs are made durable first (they are invisible until referenced), then one
transaction makes the commit visible. ``kill -9`` at any point leaves the previous head readable; SQLite's WAL
recovery and the removal of staging files at start-up are the only "repair", and both are automatic.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from zoo.hub.server import gitobj
from zoo.hub.server.accounts import ACCOUNTS_SCHEMA
from zoo.hub.server.blobs import BlobInfo, BlobStore
from zoo.hub.server.errors import (
    BadRequest,
    Conflict,
    EntryNotFound,
    RepoNotFound,
    RevisionNotFound,
    StaleParent,
)
from zoo.hub.server.validation import is_commit_id
from zoo.hub.server.xet.store import XET_SCHEMA

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS repos (
    id INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    namespace TEXT NOT NULL COLLATE NOCASE,
    name TEXT NOT NULL COLLATE NOCASE,
    private INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    UNIQUE (type, namespace, name)
);
CREATE TABLE IF NOT EXISTS blobs (
    sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, git_sha1 TEXT NOT NULL, last_seen REAL, xet_hash TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trees (oid TEXT PRIMARY KEY, entries INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tree_entries (
    tree TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL, lfs INTEGER NOT NULL,
    PRIMARY KEY (tree, path)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS commits (
    oid TEXT NOT NULL, repo INTEGER NOT NULL, parent TEXT, tree TEXT NOT NULL,
    title TEXT NOT NULL, message TEXT NOT NULL, author TEXT NOT NULL, created_at REAL NOT NULL,
    PRIMARY KEY (repo, oid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS commits_by_tree ON commits (tree);
CREATE TABLE IF NOT EXISTS repo_objects (
    repo INTEGER NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (repo, sha256)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS refs (
    repo INTEGER NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, target TEXT NOT NULL, message TEXT,
    PRIMARY KEY (repo, kind, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tree_entries_by_blob ON tree_entries (sha256);
"""

#: Upgrades of a schema version 1 root (commit ids unique per repo, blob bookkeeping for GC and Xet).
_MIGRATE_FROM_1 = """
CREATE TABLE commits_v2 (
    oid TEXT NOT NULL, repo INTEGER NOT NULL, parent TEXT, tree TEXT NOT NULL,
    title TEXT NOT NULL, message TEXT NOT NULL, author TEXT NOT NULL, created_at REAL NOT NULL,
    PRIMARY KEY (repo, oid)
) WITHOUT ROWID;
INSERT INTO commits_v2 SELECT oid, repo, parent, tree, title, message, author, created_at FROM commits;
DROP TABLE commits;
ALTER TABLE commits_v2 RENAME TO commits;
ALTER TABLE blobs ADD COLUMN last_seen REAL;
ALTER TABLE blobs ADD COLUMN xet_hash TEXT;
"""

DEFAULT_BRANCH = "main"

#: The ``.gitattributes`` the Hub puts in every new repo (keeps ``list_repo_files`` identical to the Hub's).
GITATTRIBUTES = "".join(
    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n"
    for pattern in (
        "*.7z",
        "*.arrow",
        "*.bin",
        "*.bz2",
        "*.ckpt",
        "*.ftz",
        "*.gz",
        "*.h5",
        "*.joblib",
        "*.lfs.*",
        "*.mlmodel",
        "*.model",
        "*.msgpack",
        "*.npy",
        "*.npz",
        "*.onnx",
        "*.ot",
        "*.parquet",
        "*.pb",
        "*.pickle",
        "*.pkl",
        "*.pt",
        "*.pth",
        "*.rar",
        "*.safetensors",
        "saved_model/**/*",
        "*.tar.*",
        "*.tar",
        "*.tflite",
        "*.tgz",
        "*.wasm",
        "*.xz",
        "*.zip",
        "*.zst",
        "*tfevents*",
    )
).encode()


@dataclass(frozen=True)
class Repo:
    """A repository row."""

    id: int
    type: str
    namespace: str
    name: str
    private: bool
    created_at: float

    @property
    def repo_id(self) -> str:
        """``namespace/name`` as stored (original case)."""
        return f"{self.namespace}/{self.name}"

    @property
    def key(self) -> str:
        """``type:namespace/name``: a stable string naming the repo (used to sign upload links)."""
        return f"{self.type}:{self.repo_id}"


@dataclass(frozen=True)
class Commit:
    """An immutable commit record."""

    oid: str
    parent: str | None
    tree: str
    title: str
    message: str
    author: str
    created_at: float


@dataclass(frozen=True)
class Entry:
    """A file in a tree: path, blob address, size, git sha1 of the content, and whether it is stored as LFS."""

    path: str
    sha256: str
    size: int
    git_sha1: str
    lfs: bool
    xet_hash: str | None = None

    @property
    def pointer(self) -> bytes:
        """The git-lfs pointer file the Hub's git view shows for an LFS file."""
        return gitobj.lfs_pointer(self.sha256, self.size)

    @property
    def oid(self) -> str:
        """The Hub's ``oid``: git sha1 of the content, or of the LFS pointer for LFS files (the git blob id)."""
        return gitobj.object_id(b"blob", self.pointer) if self.lfs else self.git_sha1


@dataclass(frozen=True)
class AddFile:
    """Commit operation: put ``blob`` at ``path`` (``lfs`` when it was uploaded through LFS)."""

    path: str
    blob: BlobInfo
    lfs: bool


@dataclass(frozen=True)
class DeleteFile:
    """Commit operation: remove the file at ``path`` (404 if absent)."""

    path: str


@dataclass(frozen=True)
class DeleteFolder:
    """Commit operation: remove every file under ``path/`` (404 if none)."""

    path: str


Operation = AddFile | DeleteFile | DeleteFolder


class Storage:
    """Thread-safe access to one hub root: a :class:`BlobStore` plus the SQLite metadata database."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.blobs = BlobStore(self.root)
        self.db_path = self.root / "hub.sqlite"
        self._local = threading.local()
        self._locks: dict[int, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self.recovered_tmp_files = self.blobs.clean_tmp()
        conn = self._conn()
        with self._write() as tx:
            row = None
            if tx.execute("SELECT name FROM sqlite_master WHERE name='meta'").fetchone():
                row = tx.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is not None and row[0] == "1":
                for statement in _MIGRATE_FROM_1.strip().split(";"):
                    if statement.strip():
                        tx.execute(statement)
            for statement in _SCHEMA.strip().split(";"):
                if statement.strip():
                    tx.execute(statement)
            for extension in (ACCOUNTS_SCHEMA, XET_SCHEMA):
                for statement in extension.strip().split(";"):
                    if statement.strip():
                        tx.execute(statement)
            tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        del conn

    # -- connections and transactions -------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection (SQLite connections must not be shared across threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.db_path, timeout=60.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=60000")
            self._local.conn = conn
            with self._locks_guard:
                self._connections.append(conn)
        return conn

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """An ``IMMEDIATE`` transaction: committed on success, rolled back on any exception."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        """Close every connection opened by this storage (at server shutdown)."""
        with self._locks_guard:
            for conn in self._connections:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._connections.clear()
        self._local = threading.local()

    def repo_lock(self, repo: Repo) -> threading.Lock:
        """The in-process lock serialising ref moves of one repo (SQLite's write lock covers other processes)."""
        with self._locks_guard:
            return self._locks.setdefault(repo.id, threading.Lock())

    # -- repos ------------------------------------------------------------------------------------------------

    @staticmethod
    def _repo(row: Sequence) -> Repo:
        return Repo(
            id=row[0], type=row[1], namespace=row[2], name=row[3], private=bool(row[4]), created_at=row[5]
        )

    def get_repo(self, repo_type: str, namespace: str, name: str) -> Repo | None:
        """The repo or None (names compare case-insensitively, like the Hub)."""
        row = (
            self._conn()
            .execute(
                "SELECT id, type, namespace, name, private, created_at FROM repos WHERE type=? AND namespace=? AND name=?",
                (repo_type, namespace, name),
            )
            .fetchone()
        )
        return self._repo(row) if row else None

    def get_repo_by_id(self, repo_id: int) -> Repo | None:
        """The repo with this row id, or None."""
        row = (
            self._conn()
            .execute("SELECT id, type, namespace, name, private, created_at FROM repos WHERE id=?", (repo_id,))
            .fetchone()
        )
        return self._repo(row) if row else None

    def require_repo(self, repo_type: str, namespace: str, name: str) -> Repo:
        """The repo, or :class:`RepoNotFound`."""
        repo = self.get_repo(repo_type, namespace, name)
        if repo is None:
            raise RepoNotFound(f"Repository {namespace}/{name} not found")
        return repo

    def create_repo(
        self,
        repo_type: str,
        namespace: str,
        name: str,
        *,
        private: bool,
        author: str,
        created_at: int | None = None,
    ) -> Repo:
        """Create a repo with an initial commit holding ``.gitattributes`` on ``main``; :class:`Conflict` if taken.

        ``created_at`` (seconds) dates the initial commit (default: now), so that imports can be reproduced.
        """
        blob = self.put_blob(GITATTRIBUTES)
        now = time.time() if created_at is None else int(created_at)
        with self._write() as tx:
            try:
                cur = tx.execute(
                    "INSERT INTO repos (type, namespace, name, private, created_at) VALUES (?, ?, ?, ?, ?)",
                    (repo_type, namespace, name, int(private), now),
                )
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"You already created this {repo_type} repo: {namespace}/{name}") from exc
            repo = Repo(int(cur.lastrowid or 0), repo_type, namespace, name, private, now)
            files = {".gitattributes": (blob.sha256, False)}
            tree = self._insert_tree(tx, files)
            oid = self._insert_commit(tx, repo, None, tree, "initial commit", "", author, int(now))
            tx.execute(
                "INSERT INTO refs (repo, kind, name, target) VALUES (?, 'branch', ?, ?)",
                (repo.id, DEFAULT_BRANCH, oid),
            )
        return repo

    def list_repos(
        self, repo_type: str, *, include_private: bool, author: str | None = None, search: str | None = None
    ) -> list[tuple[Repo, Commit | None]]:
        """Repos of a type (sorted by id) with the head of ``main``; private ones only when asked."""
        sql = (
            "SELECT r.id, r.type, r.namespace, r.name, r.private, r.created_at, "
            "c.oid, c.parent, c.tree, c.title, c.message, c.author, c.created_at FROM repos r "
            "LEFT JOIN refs f ON f.repo = r.id AND f.kind = 'branch' AND f.name = 'main' "
            "LEFT JOIN commits c ON c.oid = f.target AND c.repo = r.id WHERE r.type = ?"
        )
        args: list[object] = [repo_type]
        if not include_private:
            sql += " AND r.private = 0"
        if author:
            sql += " AND r.namespace = ?"
            args.append(author)
        rows = self._conn().execute(sql + " ORDER BY r.namespace, r.name", args).fetchall()
        out = []
        for row in rows:
            repo = self._repo(row[:6])
            if search and search.lower() not in repo.repo_id.lower():
                continue
            out.append((repo, self._commit(row[6:]) if row[6] else None))
        return out

    def delete_repo(self, repo: Repo) -> None:
        """Remove the repo, its commits, refs and uploads (blobs and trees stay until ``zoo hub gc``)."""
        with self.repo_lock(repo), self._write() as tx:
            tx.execute("DELETE FROM repo_objects WHERE repo=?", (repo.id,))
            tx.execute("DELETE FROM refs WHERE repo=?", (repo.id,))
            tx.execute("DELETE FROM commits WHERE repo=?", (repo.id,))
            tx.execute("DELETE FROM repos WHERE id=?", (repo.id,))

    def set_private(self, repo: Repo, private: bool) -> None:
        """Change the repo's visibility."""
        with self._write() as tx:
            tx.execute("UPDATE repos SET private=? WHERE id=?", (int(private), repo.id))

    # -- blobs ------------------------------------------------------------------------------------------------

    def put_blob(self, data: bytes) -> BlobInfo:
        """Store an in-memory blob and record it."""
        info = self.blobs.put_bytes(data)
        self.record_blob(info)
        return info

    def record_blob(self, info: BlobInfo, repo: Repo | None = None, xet_hash: str | None = None) -> None:
        """Record a durable blob (idempotent; refreshes ``last_seen``, which protects it from GC for a while).

        ``repo``: the repo it was uploaded to, which may then commit it (:meth:`may_reference`).
        ``xet_hash``: the blob is stored as a Xet file (chunks in xorbs) rather than as a blob file.
        """
        with self._write() as tx:
            tx.execute(
                "INSERT INTO blobs (sha256, size, git_sha1, last_seen, xet_hash) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (sha256) DO UPDATE SET last_seen=excluded.last_seen, "
                "xet_hash=COALESCE(blobs.xet_hash, excluded.xet_hash)",
                (info.sha256, info.size, info.git_sha1, time.time(), xet_hash),
            )
            if repo is not None:
                tx.execute("INSERT OR IGNORE INTO repo_objects (repo, sha256) VALUES (?, ?)", (repo.id, info.sha256))

    def touch_blob(self, sha256: str, repo: Repo) -> None:
        """Mark a blob as just announced again for ``repo`` (an upload skipped because the hub has it)."""
        with self._write() as tx:
            tx.execute("UPDATE blobs SET last_seen=? WHERE sha256=?", (time.time(), sha256))
            tx.execute("INSERT OR IGNORE INTO repo_objects (repo, sha256) VALUES (?, ?)", (repo.id, sha256))

    def repo_has_object(self, repo: Repo, sha256: str) -> bool:
        """Whether ``sha256`` was uploaded to ``repo`` or is in one of its commits (what it may commit by oid)."""
        conn = self._conn()
        if conn.execute("SELECT 1 FROM repo_objects WHERE repo=? AND sha256=?", (repo.id, sha256)).fetchone():
            return True
        return self._in_history(conn, repo.id, sha256)

    @staticmethod
    def _in_history(conn: sqlite3.Connection, repo_id: int, sha256: str) -> bool:
        row = conn.execute(
            "SELECT 1 FROM tree_entries e JOIN commits c ON c.tree = e.tree WHERE e.sha256=? AND c.repo=? LIMIT 1",
            (sha256, repo_id),
        ).fetchone()
        return row is not None

    def repos_holding(self, sha256: str) -> list[Repo]:
        """Repos with ``sha256`` in their history (candidates for a cross-repo copy)."""
        rows = self._conn().execute(
            "SELECT DISTINCT r.id, r.type, r.namespace, r.name, r.private, r.created_at FROM tree_entries e "
            "JOIN commits c ON c.tree = e.tree JOIN repos r ON r.id = c.repo WHERE e.sha256=?",
            (sha256,),
        ).fetchall()
        return [self._repo(row) for row in rows]

    def get_blob(self, sha256: str) -> BlobInfo | None:
        """A recorded blob whose file is present, else None."""
        row = (
            self._conn()
            .execute("SELECT sha256, size, git_sha1, xet_hash FROM blobs WHERE sha256=?", (sha256,))
            .fetchone()
        )
        if row is None or (row[3] is None and not self.blobs.exists(row[0], row[1])):
            return None
        return BlobInfo(row[0], row[1], row[2])

    # -- revisions and trees ----------------------------------------------------------------------------------

    @staticmethod
    def _commit(row: Sequence) -> Commit:
        return Commit(
            oid=row[0],
            parent=row[1],
            tree=row[2],
            title=row[3],
            message=row[4],
            author=row[5],
            created_at=row[6],
        )

    def get_commit(self, repo: Repo, oid: str) -> Commit | None:
        """A commit of this repo by id, or None."""
        row = (
            self._conn()
            .execute(
                "SELECT oid, parent, tree, title, message, author, created_at FROM commits WHERE oid=? AND repo=?",
                (oid, repo.id),
            )
            .fetchone()
        )
        return self._commit(row) if row else None

    def ref_target(self, repo: Repo, kind: str, name: str) -> str | None:
        """The commit id a branch/tag points at, or None."""
        row = (
            self._conn()
            .execute("SELECT target FROM refs WHERE repo=? AND kind=? AND name=?", (repo.id, kind, name))
            .fetchone()
        )
        return row[0] if row else None

    def resolve(self, repo: Repo, revision: str) -> Commit:
        """Branch, then tag, then full commit id -> commit; :class:`RevisionNotFound` otherwise."""
        target = self.ref_target(repo, "branch", revision) or self.ref_target(repo, "tag", revision)
        if target is None and is_commit_id(revision):
            target = revision
        commit = self.get_commit(repo, target) if target else None
        if commit is None:
            raise RevisionNotFound(f"Invalid rev id: {revision}")
        return commit

    def entries(self, tree: str, prefix: str = "") -> list[Entry]:
        """Files of a tree, sorted by path; only those under ``prefix/`` when given."""
        sql = (
            "SELECT e.path, e.sha256, b.size, b.git_sha1, e.lfs, b.xet_hash FROM tree_entries e "
            "JOIN blobs b ON b.sha256 = e.sha256 WHERE e.tree=?"
        )
        args: tuple = (tree,)
        if prefix:
            # Range scan over the primary key: paths starting with "prefix/" sort between "prefix/" and "prefix0".
            sql += " AND e.path >= ? AND e.path < ?"
            args = (tree, prefix + "/", prefix + "0")
        rows = self._conn().execute(sql + " ORDER BY e.path", args).fetchall()
        return [Entry(r[0], r[1], r[2], r[3], bool(r[4]), r[5]) for r in rows]

    def entry(self, tree: str, path: str) -> Entry | None:
        """One file of a tree, or None."""
        row = (
            self._conn()
            .execute(
                "SELECT e.path, e.sha256, b.size, b.git_sha1, e.lfs, b.xet_hash FROM tree_entries e "
                "JOIN blobs b ON b.sha256 = e.sha256 WHERE e.tree=? AND e.path=?",
                (tree, path),
            )
            .fetchone()
        )
        return Entry(row[0], row[1], row[2], row[3], bool(row[4]), row[5]) if row else None

    def has_folder(self, tree: str, path: str) -> bool:
        """Whether any file of the tree lies under ``path/``."""
        row = (
            self._conn()
            .execute(
                "SELECT 1 FROM tree_entries WHERE tree=? AND path >= ? AND path < ? LIMIT 1",
                (tree, path + "/", path + "0"),
            )
            .fetchone()
        )
        return row is not None

    def _insert_tree(self, tx: sqlite3.Connection, files: dict[str, tuple[str, bool]]) -> str:
        """Insert the tree (if new) and return its git tree id; every blob must be recorded (400 otherwise)."""
        info: dict[str, tuple[int, str]] = {}
        wanted = sorted({sha for sha, _ in files.values()})
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            marks = ",".join("?" * len(part))
            for sha, size, git_sha1 in tx.execute(
                f"SELECT sha256, size, git_sha1 FROM blobs WHERE sha256 IN ({marks})", part  # noqa: S608
            ):
                info[sha] = (size, git_sha1)
        missing = [p for p, (sha, _) in files.items() if sha not in info]
        if missing:
            raise BadRequest(f"{missing[0]}: its content is no longer stored on this hub; upload it again")
        oid = gitobj.tree_id(
            gitobj.iter_blob_ids(
                (p, sha, info[sha][0], info[sha][1], lfs) for p, (sha, lfs) in files.items()
            )
        )
        cur = tx.execute("INSERT OR IGNORE INTO trees (oid, entries) VALUES (?, ?)", (oid, len(files)))
        if cur.rowcount:
            tx.executemany(
                "INSERT INTO tree_entries (tree, path, sha256, lfs) VALUES (?, ?, ?, ?)",
                [(oid, p, sha, int(lfs)) for p, (sha, lfs) in files.items()],
            )
        return oid

    def _insert_commit(
        self,
        tx: sqlite3.Connection,
        repo: Repo,
        parent: str | None,
        tree: str,
        title: str,
        message: str,
        author: str,
        created_at: float,
    ) -> str:
        oid = gitobj.commit_id(tree, parent, author, int(created_at), title, message)
        tx.execute(
            "INSERT OR IGNORE INTO commits (oid, repo, parent, tree, title, message, author, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (oid, repo.id, parent, tree, title, message, author, created_at),
        )
        return oid

    # -- commits ----------------------------------------------------------------------------------------------

    def commit(
        self,
        repo: Repo,
        branch: str,
        operations: Sequence[Operation],
        *,
        title: str,
        message: str,
        author: str,
        parent_commit: str | None = None,
        created_at: int | None = None,
    ) -> Commit:
        """Apply ``operations`` on top of ``branch`` and move it, atomically; returns the new commit.

        Every added blob must already be durable and recorded. ``parent_commit``, when given, must be the
        branch's current head (:class:`StaleParent` otherwise: a concurrent commit won the race).
        """
        with self.repo_lock(repo), self._write() as tx:
            row = tx.execute(
                "SELECT target FROM refs WHERE repo=? AND kind='branch' AND name=?", (repo.id, branch)
            ).fetchone()
            if row is None:
                raise RevisionNotFound(f"Invalid rev id: {branch} (commits go to an existing branch)")
            head_oid = row[0]
            if parent_commit is not None and parent_commit != head_oid:
                raise StaleParent(
                    f"A commit has happened since. Please refresh and try again. (parentCommit {parent_commit} "
                    f"is not the head {head_oid} of branch {branch})"
                )
            head_tree = tx.execute(
                "SELECT tree FROM commits WHERE oid=? AND repo=?", (head_oid, repo.id)
            ).fetchone()[0]
            files = {
                r[0]: (r[1], bool(r[2]))
                for r in tx.execute("SELECT path, sha256, lfs FROM tree_entries WHERE tree=?", (head_tree,))
            }
            editor = _TreeEditor(files)
            for op in operations:
                editor.apply(op)
            tree = self._insert_tree(tx, files)
            now = int(time.time()) if created_at is None else int(created_at)
            oid = self._insert_commit(tx, repo, head_oid, tree, title, message, author, now)
            moved = tx.execute(
                "UPDATE refs SET target=? WHERE repo=? AND kind='branch' AND name=? AND target=?",
                (oid, repo.id, branch, head_oid),
            ).rowcount
            if (
                moved != 1
            ):  # cannot happen under the lock + IMMEDIATE transaction; refuse rather than lose work
                raise StaleParent(f"branch {branch} moved during the commit; try again")
        return Commit(oid, head_oid, tree, title, message, author, now)

    # -- refs -------------------------------------------------------------------------------------------------

    def list_refs(self, repo: Repo) -> dict[str, list[tuple[str, str]]]:
        """``{"branch": [(name, target)], "tag": [...]}`` sorted by name."""
        out: dict[str, list[tuple[str, str]]] = {"branch": [], "tag": []}
        for kind, name, target in self._conn().execute(
            "SELECT kind, name, target FROM refs WHERE repo=? ORDER BY name", (repo.id,)
        ):
            out.setdefault(kind, []).append((name, target))
        return out

    def create_ref(self, repo: Repo, kind: str, name: str, target: str, message: str | None = None) -> None:
        """Create a branch or tag at commit ``target``; :class:`Conflict` if the name is taken by either kind."""
        with self.repo_lock(repo), self._write() as tx:
            taken = tx.execute("SELECT kind FROM refs WHERE repo=? AND name=?", (repo.id, name)).fetchone()
            if taken is not None:
                raise Conflict(f"Reference already exists: {taken[0]} {name!r}")
            tx.execute(
                "INSERT INTO refs (repo, kind, name, target, message) VALUES (?, ?, ?, ?, ?)",
                (repo.id, kind, name, target, message),
            )

    def delete_ref(self, repo: Repo, kind: str, name: str) -> None:
        """Delete a branch (never ``main``) or a tag; :class:`RevisionNotFound` if absent."""
        if kind == "branch" and name == DEFAULT_BRANCH:
            raise BadRequest(f"cannot delete the default branch {DEFAULT_BRANCH!r}")
        with self.repo_lock(repo), self._write() as tx:
            if (
                tx.execute(
                    "DELETE FROM refs WHERE repo=? AND kind=? AND name=?", (repo.id, kind, name)
                ).rowcount
                != 1
            ):
                raise RevisionNotFound(f"Invalid rev id: no {kind} named {name}")

    def history(self, repo: Repo, start: Commit, limit: int) -> list[Commit]:
        """Up to ``limit`` commits from ``start`` following parents."""
        out: list[Commit] = []
        current: Commit | None = start
        while current is not None and len(out) < limit:
            out.append(current)
            current = self.get_commit(repo, current.parent) if current.parent else None
        return out


class _TreeEditor:
    """A mutable ``path -> (sha256, lfs)`` map with the folder index needed to refuse file/folder clashes fast."""

    def __init__(self, files: dict[str, tuple[str, bool]]) -> None:
        self.files = files
        self._folders: set[str] | None = None

    @property
    def folders(self) -> set[str]:
        if self._folders is None:
            self._folders = {p.rsplit("/", i)[0] for p in self.files for i in range(1, p.count("/") + 1)}
        return self._folders

    def apply(self, op: Operation) -> None:
        """Apply one operation; 400 on a file/folder clash, 404 when deleting something absent."""
        if isinstance(op, AddFile):
            if op.path in self.folders:
                raise BadRequest(f"cannot add file {op.path!r}: a folder with that name exists")
            parents = [op.path.rsplit("/", i)[0] for i in range(1, op.path.count("/") + 1)]
            for parent in parents:
                if parent in self.files:
                    raise BadRequest(f"cannot add file {op.path!r}: {parent!r} is a file")
            self.files[op.path] = (op.blob.sha256, op.lfs)
            self.folders.update(parents)
        elif isinstance(op, DeleteFile):
            if self.files.pop(op.path, None) is None:
                raise EntryNotFound(f"A file with this name doesn't exist: {op.path}")
            self._folders = None
        else:
            prefix = op.path.rstrip("/") + "/"
            doomed = [p for p in self.files if p.startswith(prefix)]
            if not doomed:
                raise EntryNotFound(f"A folder with this name doesn't exist: {op.path}")
            for p in doomed:
                del self.files[p]
            self._folders = None
