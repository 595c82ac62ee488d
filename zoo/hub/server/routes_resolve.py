"""File downloads: ``HEAD``/``GET /{repo}/resolve/{rev}/{path}`` with the headers ``hf_hub_download`` relies on, and
the signed Git LFS object links handed out by the LFS batch API (``git lfs pull`` after ``git clone``).

Content comes from the blob file, or, for files uploaded through Xet, is rebuilt from their chunks on the fly
(``Range`` honoured), so clients without ``hf_xet`` get plain bytes; clients with it see ``X-Xet-Hash`` and a
``Link: ...; rel="xet-auth"`` header and download through the Xet protocol instead.
"""

from __future__ import annotations

import os

import anyio
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from zoo.hub.server.context import HubContext
from zoo.hub.server.errors import EntryNotFound, NotFound, Unauthorized
from zoo.hub.server.http import base_url
from zoo.hub.server.responses import BlobResponse, parse_range
from zoo.hub.server.storage import Commit, Entry, Repo
from zoo.hub.server.validation import (
    REPO_TYPES,
    validate_path,
    validate_repo_id,
    validate_repo_type,
    validate_revision,
    validate_sha256,
)
from zoo.hub.server.xet.store import Piece

Params = dict[str, str]
Source = tuple[int | None, list[Piece] | None]


class XetContentResponse:
    """ASGI response sending bytes of a Xet-stored file, rebuilt chunk by chunk on worker threads."""

    def __init__(self, ctx: HubContext, pieces: list[Piece], size: int, headers: dict[str, str],
                 byte_range: tuple[int, int] | None) -> None:
        self.ctx, self.pieces, self.size = ctx, pieces, size
        start, end = byte_range if byte_range else (0, size - 1)
        self.start, self.end = start, end + 1
        self.status = 206 if byte_range else 200
        self.headers = {**headers, "Content-Length": str(self.end - self.start), "Accept-Ranges": "bytes"}
        if byte_range:
            self.headers["Content-Range"] = f"bytes {start}-{end}/{size}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()]
        await send({"type": "http.response.start", "status": self.status, "headers": raw})
        parts = self.ctx.xet.read(self.pieces, self.start, self.end)
        while True:
            batch = await anyio.to_thread.run_sync(_take, parts)
            if not batch:
                break
            await send({"type": "http.response.body", "body": batch, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


def _take(parts, limit: int = 1024 * 1024) -> bytes:
    """Up to about ``limit`` bytes from a chunk iterator (b"" when exhausted)."""
    out = bytearray()
    for data in parts:
        out += data
        if len(out) >= limit:
            break
    return bytes(out)


def open_content(ctx: HubContext, sha256: str, xet_hash: str | None) -> Source:
    """``(fd, None)`` for a blob file, or ``(None, pieces)`` for a Xet-stored file (on a worker thread)."""
    try:
        return os.open(ctx.storage.blobs.path(sha256), os.O_RDONLY), None
    except FileNotFoundError:
        found = ctx.xet.file_pieces(xet_hash) if xet_hash else None
        if found is None:
            raise NotFound(f"the content of {sha256} is no longer stored on this hub") from None
        return None, found[1]


def content_response(ctx: HubContext, request: Request, source: Source, size: int, headers: dict[str, str]):
    """The response for a file of ``size`` bytes from ``source`` (``Range`` honoured; HEAD sends headers only)."""
    fd, pieces = source
    head = request.method == "HEAD"
    try:
        byte_range = None if head else parse_range(request.headers.get("range"), size)
    except BaseException:
        if fd is not None:
            os.close(fd)
        raise
    if pieces is not None and not head and size:
        return XetContentResponse(ctx, pieces, size, headers, byte_range)
    return BlobResponse(fd, size, headers, head=head, byte_range=byte_range)


async def resolve(request: Request, ctx: HubContext, p: Params):
    """Serve a file at a branch, tag or commit.

    Headers: ``X-Repo-Commit`` (the resolved 40-hex commit), ``ETag`` (git sha1 of the content, or of the LFS
    pointer), ``X-Linked-Etag``/``X-Linked-Size`` (sha256 and size, LFS files only), ``X-Xet-Hash`` and the
    ``xet-auth`` link (Xet files), ``Content-Length``, ``Accept-Ranges``; ``Range`` requests get a 206. Missing
    files get ``EntryNotFound`` with ``X-Repo-Commit``.
    """
    repo_type = validate_repo_type(p["type"])
    ns, nm = validate_repo_id(p["ns"], p["name"])
    revision = validate_revision(p["rev"])
    path = validate_path(p.get("path", ""))
    principal = ctx.principal(request)
    head = request.method == "HEAD"

    def locate() -> tuple[Repo, Commit, Entry, Source]:
        # One worker-thread round trip for the whole lookup (and the open): small files are served fast.
        repo = ctx.readable_repo_sync(principal, repo_type, ns, nm)
        commit = ctx.storage.resolve(repo, revision)
        entry = ctx.storage.entry(commit.tree, path)
        if entry is None:
            raise EntryNotFound(
                f"Entry not found: {path} at {revision}", headers={"X-Repo-Commit": commit.oid}
            )
        source: Source = (None, None)
        if not head and entry.size:
            source = open_content(ctx, entry.sha256, entry.xet_hash)
        return repo, commit, entry, source

    repo, commit, entry, source = await ctx.run(locate)
    headers = {
        "X-Repo-Commit": commit.oid,
        "ETag": f'"{entry.oid}"',
        "Content-Type": "application/octet-stream",
        "Cache-Control": "private, max-age=0" if repo.private else "public, max-age=0",
    }
    if entry.lfs:
        headers["X-Linked-Etag"] = f'"{entry.sha256}"'
        headers["X-Linked-Size"] = str(entry.size)
    if entry.xet_hash:
        refresh = (
            f"{base_url(request, ctx.config.public_url)}/api/{REPO_TYPES[repo.type]}/{repo.repo_id}"
            f"/xet-read-token/{commit.oid}"
        )
        headers["X-Xet-Hash"] = entry.xet_hash
        headers["Link"] = f'<{refresh}>; rel="xet-auth"'
    return content_response(ctx, request, source, entry.size, headers)


async def lfs_object(request: Request, ctx: HubContext, p: Params):
    """``GET /api/lfs-objects/{type}s/{repo}/{oid}?expires=&signature=``: an LFS object of the repo's history, by
    a link the LFS batch API signed."""
    repo_type = validate_repo_type(p["type"])
    ns, nm = validate_repo_id(p["ns"], p["name"])
    oid = validate_sha256(p["oid"])
    try:
        expires = int(request.query_params.get("expires", ""))
    except ValueError as exc:
        raise Unauthorized("malformed LFS download link") from exc

    def locate() -> tuple[int, Source]:
        repo = ctx.storage.get_repo(repo_type, ns, nm)
        signature = request.query_params.get("signature", "")
        if repo is None or not ctx.signer.verify_text(f"lfs-get\n{repo.key}\n{oid}", expires, signature):
            raise Unauthorized("LFS download link is invalid or expired; ask the batch endpoint again")
        row = ctx.storage._conn().execute("SELECT size, xet_hash FROM blobs WHERE sha256=?", (oid,)).fetchone()
        if row is None:
            raise NotFound(f"LFS object {oid} is not stored")
        source: Source = (None, None) if request.method == "HEAD" else open_content(ctx, oid, row[1])
        return row[0], source

    size, source = await ctx.run(locate)
    return content_response(ctx, request, source, size, {"Content-Type": "application/octet-stream"})
