"""Users, organisations with members, and scoped access tokens (``zoo hub users|orgs|tokens``).

A **user** owns the namespace of its name; an **organisation** owns its namespace and lists members with a role
(``write`` members may write there, ``read`` members may read its private repos). A **token** belongs to a user
and has a scope (``read`` or ``write``), optionally a list of namespaces and/or repos it is limited to, and an
optional expiry. Only a sha256 digest of each token is stored (tokens are 256-bit random strings, so a fast hash is
enough); the token itself is printed once, when it is created.

Tokens from ``--token-file``/``ZOO_HUB_TOKENS`` remain accepted: they are the server's *administrator* tokens
(write everywhere, read everything), as before. Tables live in ``hub.sqlite`` and are read on every request, so
``zoo hub tokens revoke`` takes effect at once, even while the server runs.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from zoo.errors import HubError

if TYPE_CHECKING:
    from zoo.hub.server.storage import Storage

ACCOUNTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY COLLATE NOCASE, admin INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS orgs (name TEXT PRIMARY KEY COLLATE NOCASE, created_at REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS members (
    org TEXT NOT NULL COLLATE NOCASE, user TEXT NOT NULL COLLATE NOCASE, role TEXT NOT NULL,
    PRIMARY KEY (org, user)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY, user TEXT NOT NULL COLLATE NOCASE, name TEXT NOT NULL, digest TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL, namespaces TEXT, repos TEXT, expires_at REAL, created_at REAL NOT NULL
) WITHOUT ROWID
"""

SCOPES = ("read", "write")
ROLES = ("read", "write")
TOKEN_PREFIX = "zoo_"


def token_digest(token: str) -> str:
    """What is stored for a token: the hex sha256 of its UTF-8 bytes."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling and what the credential allows.

    ``name`` is recorded as commit author. ``admin``: a server administrator token (writes and reads anything).
    ``scope``: ``read`` or ``write``. ``orgs``/``write_orgs``: organisations the user belongs to / may write to.
    ``namespaces``/``repos``: limits of the token (None: no limit); repos are ``namespace/name``, lower case.
    """

    name: str
    authenticated: bool
    admin: bool = False
    scope: str = "write"
    orgs: frozenset[str] = field(default_factory=frozenset)
    write_orgs: frozenset[str] = field(default_factory=frozenset)
    namespaces: frozenset[str] | None = None
    repos: frozenset[str] | None = None

    def within_limits(self, namespace: str, name: str | None = None) -> bool:
        """Whether the token's namespace/repo limits cover ``namespace[/name]``."""
        if self.namespaces is None and self.repos is None:
            return True
        ns = namespace.lower()
        if self.namespaces is not None and ns in self.namespaces:
            return True
        return name is not None and self.repos is not None and f"{ns}/{name.lower()}" in self.repos

    def owns(self, namespace: str, *, write: bool) -> bool:
        """Whether the user is the namespace (its own name) or a (writing) member of the organisation."""
        ns = namespace.lower()
        return ns == self.name.lower() or ns in (self.write_orgs if write else self.orgs)

    def can_write(self, namespace: str, name: str | None = None) -> bool:
        """Writes (create, commit, delete, refs, settings) to ``namespace[/name]``."""
        if not self.authenticated or self.scope != "write" or not self.within_limits(namespace, name):
            return False
        return self.admin or self.owns(namespace, write=True)

    def can_read_private(self, namespace: str, name: str) -> bool:
        """Reads of a private repo."""
        if not self.authenticated or not self.within_limits(namespace, name):
            return False
        return self.admin or self.owns(namespace, write=False)


ANONYMOUS = Principal("anonymous", False)


@dataclass(frozen=True)
class TokenInfo:
    """A stored token, as ``zoo hub tokens ls`` shows it (never the token itself)."""

    id: str
    user: str
    name: str
    scope: str
    namespaces: list[str] | None
    repos: list[str] | None
    expires_at: float | None
    created_at: float


class Accounts:
    """Users, organisations and tokens of one hub root (tables in its ``hub.sqlite``)."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    # -- users and organisations ------------------------------------------------------------------------------

    def _name(self, value: str, what: str) -> str:
        from zoo.hub.server.errors import HubRequestError
        from zoo.hub.server.validation import RESERVED_NAMESPACES, validate_repo_part

        try:
            validate_repo_part(value, what)
        except HubRequestError as exc:
            raise HubError(exc.message) from exc
        if value.lower() in RESERVED_NAMESPACES:
            raise HubError(f"invalid {what} {value!r}: reserved word")
        return value

    def _taken(self, name: str) -> str | None:
        conn = self.storage._conn()
        if conn.execute("SELECT 1 FROM users WHERE name=?", (name,)).fetchone():
            return "user"
        if conn.execute("SELECT 1 FROM orgs WHERE name=?", (name,)).fetchone():
            return "organisation"
        return None

    def add_user(self, name: str, *, admin: bool = False) -> None:
        """Create a user (a namespace of its own); :class:`HubError` if the name is taken."""
        self._name(name, "user name")
        with self.storage._write() as tx:
            if self._taken(name):
                raise HubError(f"{name!r} is already a {self._taken(name)}")
            tx.execute("INSERT INTO users (name, admin, created_at) VALUES (?, ?, ?)", (name, int(admin), time.time()))

    def remove_user(self, name: str) -> None:
        """Delete a user, its tokens and memberships (its repos stay; an administrator may delete them)."""
        with self.storage._write() as tx:
            if tx.execute("DELETE FROM users WHERE name=?", (name,)).rowcount != 1:
                raise HubError(f"no user named {name!r}")
            tx.execute("DELETE FROM tokens WHERE user=?", (name,))
            tx.execute("DELETE FROM members WHERE user=?", (name,))

    def list_users(self) -> list[tuple[str, bool, list[str]]]:
        """``(name, admin, organisations)`` for every user, sorted by name."""
        conn = self.storage._conn()
        out = []
        for name, admin in conn.execute("SELECT name, admin FROM users ORDER BY name").fetchall():
            orgs = [r[0] for r in conn.execute("SELECT org FROM members WHERE user=? ORDER BY org", (name,))]
            out.append((name, bool(admin), orgs))
        return out

    def add_org(self, name: str) -> None:
        """Create an organisation (a namespace its members share)."""
        self._name(name, "organisation name")
        with self.storage._write() as tx:
            if self._taken(name):
                raise HubError(f"{name!r} is already a {self._taken(name)}")
            tx.execute("INSERT INTO orgs (name, created_at) VALUES (?, ?)", (name, time.time()))

    def remove_org(self, name: str) -> None:
        """Delete an organisation and its memberships (its repos stay)."""
        with self.storage._write() as tx:
            if tx.execute("DELETE FROM orgs WHERE name=?", (name,)).rowcount != 1:
                raise HubError(f"no organisation named {name!r}")
            tx.execute("DELETE FROM members WHERE org=?", (name,))

    def set_member(self, org: str, user: str, role: str = "write") -> None:
        """Add ``user`` to ``org`` (or change its role): ``write`` members write there, ``read`` members read."""
        if role not in ROLES:
            raise HubError(f"invalid role {role!r}: expected one of {', '.join(ROLES)}")
        with self.storage._write() as tx:
            if not tx.execute("SELECT 1 FROM orgs WHERE name=?", (org,)).fetchone():
                raise HubError(f"no organisation named {org!r}")
            if not tx.execute("SELECT 1 FROM users WHERE name=?", (user,)).fetchone():
                raise HubError(f"no user named {user!r}")
            tx.execute("INSERT OR REPLACE INTO members (org, user, role) VALUES (?, ?, ?)", (org, user, role))

    def remove_member(self, org: str, user: str) -> None:
        """Remove ``user`` from ``org``."""
        with self.storage._write() as tx:
            if tx.execute("DELETE FROM members WHERE org=? AND user=?", (org, user)).rowcount != 1:
                raise HubError(f"{user!r} is not a member of {org!r}")

    def list_orgs(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """``(org, [(user, role)])`` for every organisation, sorted by name."""
        conn = self.storage._conn()
        return [
            (org, [(u, r) for u, r in conn.execute("SELECT user, role FROM members WHERE org=? ORDER BY user", (org,))])
            for (org,) in conn.execute("SELECT name FROM orgs ORDER BY name").fetchall()
        ]

    # -- tokens -----------------------------------------------------------------------------------------------

    def create_token(
        self,
        user: str,
        *,
        scope: str = "read",
        name: str = "",
        namespaces: list[str] | None = None,
        repos: list[str] | None = None,
        expires_at: float | None = None,
    ) -> tuple[str, str]:
        """A new token for ``user``: returns ``(token id, token)``; only the token's digest is stored."""
        if scope not in SCOPES:
            raise HubError(f"invalid scope {scope!r}: expected one of {', '.join(SCOPES)}")
        for repo in repos or []:
            if repo.count("/") != 1:
                raise HubError(f"invalid repo limit {repo!r}: expected 'namespace/name'")
        token_id = secrets.token_hex(6)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.storage._write() as tx:
            if not tx.execute("SELECT 1 FROM users WHERE name=?", (user,)).fetchone():
                raise HubError(f"no user named {user!r} (create it with `zoo hub users add {user}`)")
            tx.execute(
                "INSERT INTO tokens (id, user, name, digest, scope, namespaces, repos, expires_at, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    token_id,
                    user,
                    name or f"token-{token_id}",
                    token_digest(token),
                    scope,
                    json.dumps([n.lower() for n in namespaces]) if namespaces else None,
                    json.dumps([r.lower() for r in repos]) if repos else None,
                    expires_at,
                    time.time(),
                ),
            )
        return token_id, token

    def list_tokens(self, user: str | None = None) -> list[TokenInfo]:
        """Stored tokens (all, or ``user``'s), oldest first."""
        sql = "SELECT id, user, name, scope, namespaces, repos, expires_at, created_at FROM tokens"
        args: tuple = ()
        if user:
            sql, args = sql + " WHERE user=?", (user,)
        rows = self.storage._conn().execute(sql + " ORDER BY created_at", args).fetchall()
        return [
            TokenInfo(r[0], r[1], r[2], r[3], json.loads(r[4]) if r[4] else None,
                      json.loads(r[5]) if r[5] else None, r[6], r[7])
            for r in rows
        ]

    def revoke_token(self, token_id: str) -> None:
        """Delete a token by id (takes effect on the next request)."""
        with self.storage._write() as tx:
            if tx.execute("DELETE FROM tokens WHERE id=?", (token_id,)).rowcount != 1:
                raise HubError(f"no token with id {token_id!r}")

    def principal_for(self, token: str) -> Principal | None:
        """The principal a stored token stands for, or None (unknown, expired, or its user was deleted)."""
        conn = self.storage._conn()
        row = conn.execute(
            "SELECT t.user, t.scope, t.namespaces, t.repos, t.expires_at, u.admin, u.name FROM tokens t "
            "JOIN users u ON u.name = t.user WHERE t.digest=?",
            (token_digest(token),),
        ).fetchone()
        if row is None or (row[4] is not None and row[4] < time.time()):
            return None
        memberships = conn.execute("SELECT org, role FROM members WHERE user=?", (row[6],)).fetchall()
        return Principal(
            name=row[6],
            authenticated=True,
            admin=bool(row[5]),
            scope=row[1],
            orgs=frozenset(o.lower() for o, _ in memberships),
            write_orgs=frozenset(o.lower() for o, role in memberships if role == "write"),
            namespaces=frozenset(json.loads(row[2])) if row[2] else None,
            repos=frozenset(json.loads(row[3])) if row[3] else None,
        )

    def org_names(self, user: str) -> list[str]:
        """Organisations ``user`` belongs to (for ``whoami``)."""
        return [r[0] for r in self.storage._conn().execute("SELECT org FROM members WHERE user=? ORDER BY org", (user,))]
