"""HTTP side of Xet: token endpoints on the hub API and the CAS API (``<hub>/api/xet-cas/...``) ``hf_xet`` calls.

- ``GET /api/{type}s/{repo}/xet-{read|write}-token/{rev}``: a short-lived CAS token for one repo, in the JSON body
  (``accessToken``, ``exp``, ``casUrl``) and in the ``X-Xet-*`` headers huggingface_hub reads;
- ``POST /v1/xorbs/default/{hash}`` (write): a xorb, verified against its hash before it is stored;
- ``POST /v1/shards`` (write): registers the files of a shard in the token's repo (see :mod:`store`);
- ``GET /v1|v2/reconstructions/{file}`` (read): how to rebuild a file (or a ``Range`` of it) from xorb ranges,
  with signed links to ``GET /xorb-data/{hash}`` (``Range`` requests); only files of the token's repo;
- ``GET /v1/chunks/...`` (global deduplication) answers 404 (clients then deduplicate against their own cache),
  ``POST /v2/shards`` answers 404 (clients fall back to ``/v1/shards``), ``POST /v1/telemetry`` is accepted.

A CAS token is ``{scope}.{repo id}.{expiry}.{HMAC}`` under the server secret; it names one repo, so a write token
registers files only there and a read token reconstructs only files that repo holds.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from zoo.hub.server.context import HubContext
from zoo.hub.server.errors import BadRequest, EntryNotFound, Forbidden, HubRequestError, NotFound, Unauthorized
from zoo.hub.server.http import base_url, check_content_length, json_response, read_body
from zoo.hub.server.responses import BlobResponse, parse_range
from zoo.hub.server.storage import Repo
from zoo.hub.server.validation import validate_revision, validate_sha256
from zoo.hub.server.xet.hashing import hex_to_hash
from zoo.hub.server.xet.shard import MAX_SHARD_BYTES, ShardFormatError, parse_shard
from zoo.hub.server.xet.xorb import MAX_XORB_BYTES, XorbFormatError, verify_xorb

Params = dict[str, str]
TOKEN_TTL = 3600
CAS_PREFIX = "/api/xet-cas"


# -- tokens ---------------------------------------------------------------------------------------------------


def _token_mac(ctx: HubContext, scope: str, repo: Repo, expires: int) -> str:
    return ctx.signer.mac(f"xet\n{scope}\n{repo.id}\n{repo.key}\n{int(repo.created_at)}\n{expires}")


async def xet_token(request: Request, ctx: HubContext, p: Params) -> Response:
    """``GET /api/{type}s/{repo}/xet-{read|write}-token/{rev}``."""
    scope = p["scope"]
    if scope == "write":
        repo, _ = await ctx.writable_repo(request, p["type"], p["ns"], p["name"])
    else:
        repo = await ctx.readable_repo(request, p["type"], p["ns"], p["name"])
    if p.get("rev") not in (None, "None"):  # "None": a token for a pull request the client has not opened yet
        await ctx.run(ctx.storage.resolve, repo, validate_revision(p["rev"]))
    expires = int(time.time()) + TOKEN_TTL
    token = f"{scope}.{repo.id}.{expires}.{_token_mac(ctx, scope, repo, expires)}"
    cas = base_url(request, ctx.config.public_url) + CAS_PREFIX
    headers = {"X-Xet-Cas-Url": cas, "X-Xet-Access-Token": token, "X-Xet-Token-Expiration": str(expires)}
    return json_response({"accessToken": token, "exp": expires, "casUrl": cas}, headers=headers)


async def xet_write_token(request: Request, ctx: HubContext, p: Params) -> Response:
    """``GET /api/{type}s/{repo}/xet-write-token/{rev}`` (write access to the repo required)."""
    return await xet_token(request, ctx, {**p, "scope": "write"})


async def xet_read_token(request: Request, ctx: HubContext, p: Params) -> Response:
    """``GET /api/{type}s/{repo}/xet-read-token/{rev}`` (read access to the repo required)."""
    return await xet_token(request, ctx, {**p, "scope": "read"})


def _cas_repo(ctx: HubContext, request: Request, *, write: bool) -> Repo:
    """The repo a CAS request's token names (401 when missing, malformed or expired; 403 read-only for writes)."""
    scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
    parts = value.strip().split(".")
    if scheme.lower() != "bearer" or len(parts) != 4 or parts[0] not in ("read", "write"):
        raise Unauthorized("a Xet access token is required (ask the hub's xet-read-token/xet-write-token route)")
    scope, repo_id, expires, mac = parts
    try:
        repo_key, expiry = int(repo_id), int(expires)
    except ValueError as exc:
        raise Unauthorized("malformed Xet access token") from exc
    repo = ctx.storage.get_repo_by_id(repo_key)
    if repo is None or expiry < time.time() or mac != _token_mac(ctx, scope, repo, expiry):
        raise Unauthorized("Xet access token is invalid or expired")
    if write and scope != "write":
        raise Forbidden("this Xet token is read-only")
    request.scope["zoo.user"] = f"xet:{repo.repo_id}"
    return repo


# -- uploads --------------------------------------------------------------------------------------------------


async def upload_xorb(request: Request, ctx: HubContext, p: Params) -> Response:
    """``POST /v1/xorbs/default/{hash}``: stage, verify the chunks hash to ``hash``, then store."""
    xorb = validate_sha256(p["hash"])
    await ctx.run(_cas_repo, ctx, request, write=True)
    check_content_length(request, MAX_XORB_BYTES)
    if await ctx.run(ctx.xet.touch_xorbs, {xorb}):
        async for _ in request.stream():  # drain: the client expects its body to be read
            pass
        return json_response({"was_inserted": False})
    staged = await ctx.run(_stage_file, ctx)
    try:
        total = 0
        buffer = bytearray()
        with open(staged, "wb") as handle:
            async for piece in request.stream():
                total += len(piece)
                if total > MAX_XORB_BYTES:
                    raise HubRequestError("xorb exceeds 64 MiB", status=413, code="PayloadTooLarge")
                buffer += piece
                if len(buffer) >= 4 * 1024 * 1024:
                    await ctx.run(handle.write, bytes(buffer))
                    buffer.clear()
            await ctx.run(_finish, handle, bytes(buffer))
        inserted = await ctx.run(_verify_and_add, ctx, xorb, staged)
    finally:
        if staged.exists():
            staged.unlink()
    return json_response({"was_inserted": inserted})


def _stage_file(ctx: HubContext) -> Path:
    fd, name = tempfile.mkstemp(prefix=f"upload-{os.getpid()}-", suffix=".xorb", dir=ctx.storage.blobs.tmp_dir)
    os.close(fd)
    return Path(name)


def _finish(handle: Any, tail: bytes) -> None:
    handle.write(tail)
    handle.flush()
    os.fsync(handle.fileno())


def _verify_and_add(ctx: HubContext, xorb: str, staged: Path) -> bool:
    try:
        records = verify_xorb(staged.read_bytes(), hex_to_hash(xorb))
    except XorbFormatError as exc:
        raise BadRequest(f"xorb {xorb}: {exc}") from exc
    return ctx.xet.add_xorb(xorb, staged, records)


async def upload_shard(request: Request, ctx: HubContext, p: Params) -> Response:
    """``POST /v1/shards``: register the shard's files in the token's repo (all or none of them)."""
    repo = await ctx.run(_cas_repo, ctx, request, write=True)
    body = await read_body(request, MAX_SHARD_BYTES)

    def register() -> int:
        try:
            files, _xorbs = parse_shard(body)
            for info in files:
                ctx.xet.register(repo, info)
        except (ShardFormatError, XorbFormatError) as exc:
            raise BadRequest(f"shard refused: {exc}") from exc
        return len(files)

    await ctx.run(register)
    return json_response({"result": 1})


async def telemetry(request: Request, ctx: HubContext, p: Params) -> Response:
    """``POST /v1/telemetry``: accepted and dropped (the body is read and bounded)."""
    await read_body(request, 1024 * 1024)
    return json_response({})


async def no_global_dedup(request: Request, ctx: HubContext, p: Params) -> Response:
    """``GET /v1/chunks/default-merkledb/{hash}``: this hub offers no global deduplication (404, per the spec)."""
    await ctx.run(_cas_repo, ctx, request, write=False)
    raise NotFound("chunk not tracked by global deduplication")


# -- downloads ------------------------------------------------------------------------------------------------


async def reconstruction(request: Request, ctx: HubContext, p: Params) -> Response:
    """``GET /v1|v2/reconstructions/{file}`` with an optional ``Range: bytes=a-b``."""
    file_hex = validate_sha256(p["hash"])
    version = p["version"]
    base = base_url(request, ctx.config.public_url)

    def build() -> dict[str, Any]:
        repo = _cas_repo(ctx, request, write=False)
        found = ctx.xet.file_pieces(file_hex)
        sha256 = ctx.xet.sha256_of(file_hex)
        if found is None or sha256 is None or not ctx.storage.repo_has_object(repo, sha256):
            raise EntryNotFound(f"no Xet file {file_hex} in {repo.repo_id}")
        size, pieces = found
        byte_range = parse_range(request.headers.get("range"), size) if size else None
        start, end = (byte_range[0], byte_range[1] + 1) if byte_range else (0, size)
        return _plan(ctx, base, pieces, start, end, version)

    return json_response(await ctx.run(build))


def _xorb_url(ctx: HubContext, base: str, xorb: str) -> str:
    expires, signature = ctx.signer.sign_text(f"xorb\n{xorb}")
    return f"{base}{CAS_PREFIX}/xorb-data/{xorb}?expires={expires}&signature={signature}"


def _plan(ctx: HubContext, base: str, pieces: list, start: int, end: int, version: str) -> dict[str, Any]:
    """Terms covering file bytes ``[start, end)`` and where to fetch them (V1 ``fetch_info`` or V2 ``xorbs``)."""
    terms: list[dict[str, Any]] = []
    fetch: dict[str, list[dict[str, Any]]] = {}
    offset_into_first: int | None = None
    position = 0
    for piece in pieces:
        if position + piece.size <= start or position >= end:
            position += piece.size
            continue
        chosen = []
        for i, (_hash, byte_start, byte_end, size) in enumerate(ctx.xet.chunks(piece.xorb, piece.start, piece.end)):
            if position + size > start and position < end:
                if offset_into_first is None:
                    offset_into_first = start - position
                chosen.append((piece.start + i, byte_start, byte_end, size))
            position += size
        first, last = chosen[0], chosen[-1]
        chunks = {"start": first[0], "end": last[0] + 1}
        span = {"start": first[1], "end": last[2] - 1}
        terms.append({"hash": piece.xorb, "range": chunks, "unpacked_length": sum(c[3] for c in chosen)})
        entries = fetch.setdefault(piece.xorb, [])
        url = _xorb_url(ctx, base, piece.xorb)
        if version == "v1":
            entry = {"range": chunks, "url": url, "url_range": span}
        else:
            entry = {"url": url, "ranges": [{"chunks": chunks, "bytes": span}]}
        if entry not in entries:
            entries.append(entry)
    key = "fetch_info" if version == "v1" else "xorbs"
    return {"offset_into_first_range": offset_into_first or 0, "terms": terms, key: fetch}


async def xorb_data(request: Request, ctx: HubContext, p: Params) -> BlobResponse:
    """``GET /xorb-data/{hash}?expires=&signature=``: bytes of a stored xorb (signed link; ``Range`` honoured)."""
    xorb = validate_sha256(p["hash"])
    try:
        expires = int(request.query_params.get("expires", ""))
    except ValueError as exc:
        raise Unauthorized("malformed xorb link") from exc
    if not ctx.signer.verify_text(f"xorb\n{xorb}", expires, request.query_params.get("signature", "")):
        raise Unauthorized("xorb link is invalid or expired; ask for a new reconstruction")
    path = ctx.xet.path(xorb)

    def open_xorb() -> tuple[int, int]:
        fd = os.open(path, os.O_RDONLY)
        return fd, os.fstat(fd).st_size

    try:
        fd, size = await ctx.run(open_xorb)
    except FileNotFoundError as exc:
        raise NotFound(f"xorb {xorb} is not stored") from exc
    try:
        byte_range = parse_range(request.headers.get("range"), size)
    except BaseException:
        os.close(fd)
        raise
    head = request.method == "HEAD"
    if head:
        os.close(fd)
    headers = {"Content-Type": "application/octet-stream", "Cache-Control": "private, max-age=3600"}
    return BlobResponse(None if head else fd, size, headers, head=head, byte_range=byte_range)
