"""Bearer tokens, and signed links for LFS object uploads and Xet transfers.

Administrator tokens come from a token file (one per line, optional ``name:`` prefix naming the user, ``#``
comments) and/or the ``ZOO_HUB_TOKENS`` variable (comma-separated), compared in constant time; user tokens with
scopes come from the hub's database (:mod:`zoo.hub.server.accounts`). Tokens are never logged: the request log
records only the user name a token maps to.

An LFS upload ``PUT`` carries no Authorization header (the client sends the bytes to the ``href`` it was given),
so the batch endpoint hands out links signed with an HMAC over repo, oid, size and expiry; the secret is random per
server process.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from zoo.errors import ConfigError
from zoo.hub.server.accounts import ANONYMOUS, Accounts, Principal

__all__ = ["ANONYMOUS", "Principal", "TokenStore", "UploadSigner", "load_tokens", "parse_token_lines"]


def parse_token_lines(lines: Iterable[str], source: str) -> dict[str, str]:
    """Parse ``token`` or ``name:token`` lines (blank lines and ``#`` comments skipped) into ``{token: name}``."""
    tokens: dict[str, str] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, token = line.rpartition(":")
        if not sep:
            name, token = f"user{len(tokens) + 1}", line
        name, token = name.strip(), token.strip()
        if len(token) < 8 or any(ch.isspace() for ch in token):
            raise ConfigError(
                f"{source}, line {number}: a token must be at least 8 characters without spaces"
            )
        if not name or any(ch.isspace() or not ch.isprintable() for ch in name):
            raise ConfigError(f"{source}, line {number}: invalid user name")
        tokens[token] = name
    return tokens


def load_tokens(token_file: str | Path | None = None, env_value: str | None = None) -> dict[str, str]:
    """Tokens from ``token_file`` and the comma-separated ``env_value`` (``ZOO_HUB_TOKENS``), merged."""
    tokens: dict[str, str] = {}
    if token_file is not None:
        path = Path(token_file).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read token file {path}: {exc.strerror or exc}") from exc
        tokens.update(parse_token_lines(text.splitlines(), str(path)))
    if env_value:
        tokens.update(parse_token_lines(env_value.split(","), "ZOO_HUB_TOKENS"))
    return tokens


class TokenStore:
    """Checks bearer tokens: administrator tokens in constant time, then the database's scoped tokens."""

    def __init__(self, tokens: Mapping[str, str], accounts: Accounts | None = None) -> None:
        self._tokens = [(t.encode("utf-8"), name) for t, name in tokens.items()]
        self._accounts = accounts

    def __len__(self) -> int:
        return len(self._tokens)

    def identify(self, authorization: str | None) -> Principal | None:
        """The principal for an ``Authorization`` header: ANONYMOUS if absent, None if present but invalid."""
        if not authorization:
            return ANONYMOUS
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None
        candidate = value.strip().encode("utf-8")
        found: str | None = None
        for token, name in self._tokens:  # compare against every token: timing does not reveal which matched
            if hmac.compare_digest(candidate, token):
                found = name
        if found is not None:
            return Principal(found, True, admin=True)
        if self._accounts is not None and len(candidate) <= 200:
            return self._accounts.principal_for(candidate.decode("utf-8", "replace"))
        return None


class UploadSigner:
    """HMAC-signed, expiring capabilities: LFS ``PUT`` links, Xet access tokens and Xet transfer links.

    ``secret`` defaults to a random one per process; the server passes the one kept in its root (``server.key``) so
    that links and Xet tokens survive a restart.
    """

    def __init__(self, ttl: int, secret: bytes | None = None) -> None:
        self._secret = secret or secrets.token_bytes(32)
        self._ttl = ttl

    def mac(self, text: str) -> str:
        """Hex HMAC-SHA256 of ``text`` under the server secret."""
        return hmac.new(self._secret, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def sign_text(self, text: str, ttl: int | None = None) -> tuple[int, str]:
        """``(expires, signature)`` over ``text`` and an expiry ``ttl`` seconds (default: the link TTL) from now."""
        expires = int(time.time()) + (self._ttl if ttl is None else ttl)
        return expires, self.mac(f"{text}\n{expires}")

    def verify_text(self, text: str, expires: int, signature: str) -> bool:
        """Whether ``signature`` was made by :meth:`sign_text` for ``text`` and has not expired."""
        if expires < time.time():
            return False
        return hmac.compare_digest(self.mac(f"{text}\n{expires}"), signature)

    def sign(self, repo_key: str, oid: str, size: int) -> tuple[int, str]:
        """``(expires, signature)`` for an upload of ``oid``/``size`` into ``repo_key``."""
        return self.sign_text(f"{repo_key}\n{oid}\n{size}")

    def verify(self, repo_key: str, oid: str, size: int, expires: int, signature: str) -> bool:
        """Whether the signature matches and has not expired."""
        return self.verify_text(f"{repo_key}\n{oid}\n{size}", expires, signature)


def load_secret(root: Path) -> bytes:
    """The server secret kept in ``<root>/server.key`` (created, mode 600, on first use)."""
    path = root / "server.key"
    try:
        data = path.read_bytes()
        if len(data) >= 32:
            return data[:32]
    except FileNotFoundError:
        pass
    data = secrets.token_bytes(32)
    tmp = root / f"server.key.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # first writer wins if two processes race
    except FileExistsError:
        data = path.read_bytes()[:32]
    finally:
        tmp.unlink()
    return data
