"""The state every route shares: configuration, storage, tokens, upload signer; plus access checks."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from starlette.requests import Request

from zoo.hub.server.accounts import Accounts
from zoo.hub.server.auth import Principal, TokenStore, UploadSigner, load_secret
from zoo.hub.server.config import HubConfig
from zoo.hub.server.errors import Forbidden, RepoNotFound, Unauthorized
from zoo.hub.server.storage import Entry, Repo, Storage
from zoo.hub.server.validation import validate_repo_id, validate_repo_type
from zoo.hub.server.xet.store import XetStore

T = TypeVar("T")

#: The message huggingface_hub recognises as "bad token" (it maps other 401s on repo URLs to RepoNotFound).
INVALID_CREDENTIALS = "Invalid credentials in Authorization header"


class HubContext:
    """Shared server state; one per app."""

    def __init__(self, config: HubConfig, storage: Storage | None = None) -> None:
        self.config = config
        self.storage = storage or Storage(config.root)
        self.accounts = Accounts(self.storage)
        self.xet = XetStore(self.storage)
        self.tokens = TokenStore(config.tokens, self.accounts)
        self.signer = UploadSigner(config.upload_url_ttl, load_secret(self.storage.root))

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking storage work on a worker thread."""
        return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))

    def principal(self, request: Request) -> Principal:
        """Who is calling; a present but invalid token is a 401 on every route."""
        principal = self.tokens.identify(request.headers.get("authorization"))
        if principal is None:
            raise Unauthorized(INVALID_CREDENTIALS)
        request.scope["zoo.user"] = principal.name
        return principal

    def require_writer(self, request: Request) -> Principal:
        """The caller, who must hold a valid write token (401 otherwise)."""
        principal = self.principal(request)
        if not principal.authenticated:
            raise Unauthorized(
                "Authorization required: writes to this hub need a bearer token "
                "(huggingface_hub: token=... or HF_TOKEN)",
                code="Unauthorized",
            )
        return principal

    def can_read(self, repo: Repo, principal: Principal) -> bool:
        """Public repos: anyone (any valid token with ``--read-requires-token``); private repos: the namespace's
        user, members of its organisation, administrators, within the token's limits."""
        if not repo.private:
            return principal.authenticated or not self.config.read_requires_token
        return principal.can_read_private(repo.namespace, repo.name)

    def check_write(self, principal: Principal, namespace: str, name: str | None = None) -> None:
        """403 unless ``principal`` may write to ``namespace[/name]`` (owner, writing member, administrator)."""
        if principal.can_write(namespace, name):
            return
        if principal.scope != "write":
            raise Forbidden("this token is read-only: create a token with --scope write to write")
        if not principal.within_limits(namespace, name):
            target = f"{namespace}/{name}" if name else namespace
            raise Forbidden(f"this token is limited to other namespaces or repos than {target}")
        raise Forbidden(
            f"{principal.name} may not write to the namespace {namespace!r}: only its owner and the writing "
            "members of that organisation can"
        )

    def readable_repo_sync(self, principal: Principal, repo_type: str, namespace: str, name: str) -> Repo:
        """Blocking core of :meth:`readable_repo` (names already validated), for use on a worker thread."""
        repo = self.storage.get_repo(repo_type, namespace, name)
        if repo is None or not self.can_read(repo, principal):
            status = 401 if not principal.authenticated else 404
            raise RepoNotFound(f"Repository {namespace}/{name} not found", status=status)
        return repo

    def read_entry(self, entry: Entry) -> bytes:
        """The whole content of a (small) file: its blob file, or its Xet chunks (on a worker thread)."""
        try:
            return self.storage.blobs.path(entry.sha256).read_bytes()
        except FileNotFoundError:
            found = self.xet.file_pieces(entry.xet_hash) if entry.xet_hash else None
            if found is None:
                raise
            return b"".join(self.xet.read(found[1], 0, found[0]))

    def may_reference_sync(self, principal: Principal, repo: Repo, sha256: str) -> bool:
        """Whether a commit to ``repo`` by ``principal`` may name stored content by its sha256: uploaded to this
        repo, in its history, or in the history of a repo the caller may read (a copy). Never otherwise."""
        if self.storage.repo_has_object(repo, sha256):
            return True
        return any(self.can_read(other, principal) for other in self.storage.repos_holding(sha256))

    async def readable_repo(self, request: Request, type_: str, namespace: str, name: str) -> Repo:
        """The repo if the caller may read it; unreadable and missing repos look the same (no existence leak)."""
        repo_type = validate_repo_type(type_)
        ns, nm = validate_repo_id(namespace, name)
        principal = self.principal(request)
        return await self.run(self.readable_repo_sync, principal, repo_type, ns, nm)

    async def writable_repo(
        self, request: Request, type_: str, namespace: str, name: str
    ) -> tuple[Repo, Principal]:
        """The repo and the authenticated writer."""
        principal = self.require_writer(request)
        repo_type = validate_repo_type(type_)
        ns, nm = validate_repo_id(namespace, name)
        repo = await self.run(self.storage.get_repo, repo_type, ns, nm)
        if repo is None or not self.can_read(repo, principal):
            raise RepoNotFound(f"Repository {ns}/{nm} not found")
        self.check_write(principal, repo.namespace, repo.name)
        return repo, principal
