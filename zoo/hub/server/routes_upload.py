"""Write routes: preupload (regular vs LFS), NDJSON commits, the Git LFS batch API and signed object uploads."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from zoo.hub.server.accounts import Principal
from zoo.hub.server.blobs import BlobInfo
from zoo.hub.server.context import HubContext
from zoo.hub.server.gitattributes import is_lfs, parse_lfs_rules
from zoo.hub.server.errors import BadRequest, NotSupported, PayloadTooLarge, StaleParent, Unauthorized
from zoo.hub.server.http import (
    base_url,
    check_content_length,
    expect_dict,
    iter_lines,
    json_response,
    read_json,
)
from zoo.hub.server.routes_repos import url_prefix
from zoo.hub.server.storage import AddFile, DeleteFile, DeleteFolder, Operation, Repo
from zoo.hub.server.validation import (
    REPO_TYPES,
    is_commit_id,
    validate_path,
    validate_repo_id,
    validate_repo_type,
    validate_revision,
    validate_sha256,
)

Params = dict[str, str]
LFS_MEDIA_TYPE = "application/vnd.git-lfs+json"
MAX_PREUPLOAD_FILES = 1000
STAGE_BYTES = 4 * 1024 * 1024


def _size(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadRequest(f"{what}: size must be a non-negative integer")
    return value


def _is_binary(sample: object) -> bool:
    """Whether the client's sample (base64 of the first 512 bytes) looks binary (holds a NUL byte)."""
    if not isinstance(sample, str) or not sample:
        return False
    try:
        return b"\x00" in base64.b64decode(sample, validate=False)
    except (binascii.Error, ValueError):
        return False


async def preupload(request: Request, ctx: HubContext, p: Params) -> Response:
    """``POST /api/{type}s/{repo}/preupload/{rev}``: ``lfs`` for files at or above the LFS threshold, files the
    repo's ``.gitattributes`` sends to LFS, and binary files (a NUL byte in the client's sample); ``regular``
    otherwise. Large files always go through LFS/Xet, so regular commits stay made of small text files."""
    repo, _ = await ctx.writable_repo(request, p["type"], p["ns"], p["name"])
    revision = validate_revision(p["rev"])
    body = expect_dict(await read_json(request, ctx.config.max_json_bytes), "preupload body")
    files = body.get("files")
    if not isinstance(files, list) or len(files) > MAX_PREUPLOAD_FILES:
        raise BadRequest(f"preupload: 'files' must be a list of at most {MAX_PREUPLOAD_FILES} entries")
    threshold = min(ctx.config.lfs_threshold, ctx.config.max_inline_bytes)
    wanted: list[tuple[str, int, bool]] = []
    for item in files:
        item = expect_dict(item, "preupload file")
        path = validate_path(item.get("path"))
        size = _size(item.get("size"), path)
        if size > ctx.config.max_file_bytes:
            raise PayloadTooLarge(
                f"{path}: {size} bytes exceeds the file size limit of {ctx.config.max_file_bytes}"
            )
        wanted.append((path, size, _is_binary(item.get("sample"))))

    def answer() -> tuple[str, list[dict[str, Any]]]:
        commit = ctx.storage.resolve(repo, revision)
        rules: list[tuple[str, bool]] = []
        attributes = ctx.storage.entry(commit.tree, ".gitattributes")
        if attributes is not None and attributes.size <= 1024 * 1024:
            text = ctx.read_entry(attributes).decode("utf-8", "replace")
            rules = parse_lfs_rules(text)
        answers = []
        for path, size, binary in wanted:
            entry = ctx.storage.entry(commit.tree, path)
            oid = None if entry is None else (entry.sha256 if entry.lfs else entry.git_sha1)
            lfs = size >= threshold or binary or is_lfs(path, rules)
            mode = "lfs" if lfs and size > 0 else "regular"
            answers.append({"path": path, "uploadMode": mode, "shouldIgnore": False, "oid": oid})
        return commit.oid, answers

    head, answers = await ctx.run(answer)
    return json_response({"files": answers, "commitOid": head})


async def commit(request: Request, ctx: HubContext, p: Params) -> Response:
    """``POST /api/{type}s/{repo}/commit/{branch}``: an NDJSON commit, applied all-or-nothing."""
    repo, principal = await ctx.writable_repo(request, p["type"], p["ns"], p["name"])
    branch = validate_revision(p["rev"])
    if request.query_params.get("create_pr") in ("1", "true", "True"):
        raise NotSupported("pull requests are not supported by this hub; commit to a branch instead")
    if is_commit_id(branch):
        raise BadRequest("commits must target a branch, not a commit id")
    config = ctx.config
    header: dict[str, Any] | None = None
    operations: list[Operation] = []
    max_line = config.max_inline_bytes * 4 // 3 + 64 * 1024
    async for line in iter_lines(request, max_line=max_line, max_total=config.max_commit_bytes):
        try:
            item = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise BadRequest(f"commit payload: malformed NDJSON line: {exc}") from exc
        item = expect_dict(item, "commit payload line")
        key, value = (
            item.get("key"),
            expect_dict(item.get("value"), f"commit payload {item.get('key')!r} value"),
        )
        if header is None:
            if key != "header":
                raise BadRequest("commit payload: the first line must be the 'header'")
            header = value
            parent = _check_header(header)
            if parent is not None:  # fail fast, before storing any blob (checked again atomically at the end)
                head = await ctx.run(ctx.storage.ref_target, repo, "branch", branch)
                if head is not None and head != parent:
                    raise StaleParent(
                        f"A commit has happened since. Please refresh and try again. (parentCommit {parent} "
                        f"is not the head {head} of branch {branch})"
                    )
        elif key == "header":
            raise BadRequest("commit payload: only one 'header' line is allowed")
        elif key == "file":
            operations.append(await _inline_file(ctx, value))
        elif key == "lfsFile":
            operations.append(await _lfs_file(ctx, value, repo, principal))
        elif key == "deletedFile":
            operations.append(DeleteFile(validate_path(value.get("path"))))
        elif key == "deletedFolder":
            operations.append(DeleteFolder(validate_path(str(value.get("path", "")).rstrip("/"))))
        else:
            raise BadRequest(
                f"commit payload: unsupported key {key!r} (copies and Xet files are not supported)"
            )
    if header is None:
        raise BadRequest("commit payload: the first line must be the 'header'")
    title = str(header["summary"])
    description = header.get("description") or ""
    parent = header.get("parentCommit")
    new = await ctx.run(
        ctx.storage.commit,
        repo,
        branch,
        operations,
        title=title.strip()[:1000],
        message=str(description)[:100_000],
        author=principal.name,
        parent_commit=parent,
    )
    url = f"{base_url(request, config.public_url)}/{url_prefix(repo)}{repo.repo_id}/commit/{new.oid}"
    return json_response({"success": True, "commitOid": new.oid, "commitUrl": url})


def _check_header(header: dict[str, Any]) -> str | None:
    """Validate the commit header (title required, ``parentCommit`` a 40-hex id); returns the parent or None."""
    title = header.get("summary")
    if not isinstance(title, str) or not title.strip():
        raise BadRequest("commit payload: header.summary (the commit title) is required")
    parent = header.get("parentCommit")
    if parent is not None and (not isinstance(parent, str) or not is_commit_id(parent)):
        raise BadRequest("commit payload: header.parentCommit must be a 40-hex commit id")
    return parent


async def _inline_file(ctx: HubContext, value: dict[str, Any]) -> AddFile:
    path = validate_path(value.get("path"))
    if value.get("encoding", "base64") != "base64":
        raise BadRequest(f"{path}: only base64 encoding is supported for inline files")
    content = value.get("content")
    if not isinstance(content, str):
        raise BadRequest(f"{path}: 'content' must be a base64 string")
    try:
        data = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest(f"{path}: content is not valid base64") from exc
    if len(data) > ctx.config.max_inline_bytes:
        raise PayloadTooLarge(
            f"{path}: inline files are limited to {ctx.config.max_inline_bytes} bytes; use LFS"
        )
    blob = await ctx.run(ctx.storage.put_blob, data)
    return AddFile(path, blob, lfs=False)


async def _lfs_file(ctx: HubContext, value: dict[str, Any], repo: Repo, principal: Principal) -> AddFile:
    """An ``lfsFile`` operation: the object must have been uploaded to this repo, be in its history, or (a copy,
    which sends no size) be in a repo the caller may read. A bare sha256 never attaches anyone else's content."""
    path = validate_path(value.get("path"))
    if value.get("algo", "sha256") != "sha256":
        raise BadRequest(f"{path}: only sha256 LFS objects are supported")
    oid = validate_sha256(value.get("oid"))
    size = None if value.get("size") is None else _size(value.get("size"), path)

    def lookup() -> BlobInfo | None:
        blob = ctx.storage.get_blob(oid)
        if blob is None or (size is not None and blob.size != size):
            return None
        return blob if ctx.may_reference_sync(principal, repo, oid) else None

    blob = await ctx.run(lookup)
    if blob is None:
        shown = f"{oid} ({size} bytes)" if size is not None else oid
        raise BadRequest(f"{path}: LFS object {shown} has not been uploaded to {repo.repo_id}")
    return AddFile(path, blob, lfs=True)


# -- Git LFS --------------------------------------------------------------------------------------------------


async def lfs_batch(request: Request, ctx: HubContext, p: Params) -> Response:
    """``POST /{repo}.git/info/lfs/objects/batch``: upload actions for the objects not stored yet (basic transfer)."""
    body = expect_dict(await read_json(request, ctx.config.max_json_bytes), "LFS batch body")
    if body.get("operation") == "download":
        return await lfs_download_batch(request, ctx, p, body)
    if body.get("operation") != "upload":
        raise BadRequest("LFS batch: 'operation' must be 'upload' or 'download'")
    repo, principal = await ctx.writable_repo(request, p["type"], p["ns"], p["name"])
    transfers = body.get("transfers") or ["basic"]
    if "basic" not in transfers:
        raise BadRequest("LFS batch: this hub only offers the 'basic' transfer")
    if body.get("hash_algo", "sha256") != "sha256":
        raise BadRequest("LFS batch: only sha256 is supported")
    objects = body.get("objects")
    if not isinstance(objects, list) or len(objects) > MAX_PREUPLOAD_FILES:
        raise BadRequest(f"LFS batch: 'objects' must be a list of at most {MAX_PREUPLOAD_FILES} entries")
    prefix = base_url(request, ctx.config.public_url)
    answers = []
    for obj in objects:
        obj = expect_dict(obj, "LFS object")
        oid, size = obj.get("oid"), obj.get("size")
        try:
            validate_sha256(oid)
            _size(size, "LFS object")
        except BadRequest as exc:
            answers.append(
                {
                    "oid": str(oid),
                    "size": size if isinstance(size, int) else 0,
                    "error": {"code": 422, "message": exc.message},
                }
            )
            continue
        if size > ctx.config.max_file_bytes:
            answers.append(
                {
                    "oid": oid,
                    "size": size,
                    "error": {
                        "code": 413,
                        "message": f"object exceeds the file size limit of {ctx.config.max_file_bytes} bytes",
                    },
                }
            )
            continue
        if await ctx.run(_known, ctx, principal, repo, oid, size):
            answers.append({"oid": oid, "size": size})  # no actions: already on the hub and this repo may use it
            continue
        expires, signature = ctx.signer.sign(repo.key, oid, size)
        href = (
            f"{prefix}/api/lfs-upload/{REPO_TYPES[repo.type]}/{repo.repo_id}/{oid}"
            f"?size={size}&expires={expires}&signature={signature}"
        )
        answers.append(
            {
                "oid": oid,
                "size": size,
                "authenticated": True,
                "actions": {"upload": {"href": href, "expires_in": ctx.config.upload_url_ttl}},
            }
        )
    return json_response(
        {"transfer": "basic", "objects": answers, "hash_algo": "sha256"}, media_type=LFS_MEDIA_TYPE
    )


async def lfs_upload(request: Request, ctx: HubContext, p: Params) -> Response:
    """``PUT /api/lfs-upload/{type}s/{repo}/{oid}?size=&expires=&signature=``: store one object, verified."""
    repo_type = validate_repo_type(p["type"])
    ns, nm = validate_repo_id(p["ns"], p["name"])
    oid = validate_sha256(p["rev"])
    query = request.query_params
    try:
        size, expires = int(query.get("size", "")), int(query.get("expires", ""))
    except ValueError as exc:
        raise BadRequest("malformed upload link") from exc
    repo = await ctx.run(ctx.storage.get_repo, repo_type, ns, nm)
    if repo is None or not ctx.signer.verify(repo.key, oid, size, expires, query.get("signature", "")):
        raise Unauthorized(
            "upload link is invalid or expired; ask the batch endpoint for a new one", code="Unauthorized"
        )
    declared = check_content_length(request, size)
    if declared is not None and declared != size:
        raise BadRequest(f"Content-Length {declared} does not match the object size {size}")
    writer = await ctx.run(ctx.storage.blobs.writer, size, oid)
    try:
        staged = bytearray()
        async for chunk in request.stream():
            staged += chunk
            if len(staged) >= STAGE_BYTES:
                await ctx.run(writer.write, bytes(staged))
                staged.clear()
        if staged:
            await ctx.run(writer.write, bytes(staged))
        blob = await ctx.run(writer.commit)
    except BaseException:
        writer.abort()
        raise
    await ctx.run(ctx.storage.record_blob, blob, repo)
    return Response(status_code=200)


def _known(ctx: HubContext, principal: Principal, repo: Repo, oid: str, size: int) -> bool:
    """Whether an upload of ``oid`` can be skipped: stored, and already usable by ``repo`` (otherwise the client
    must send the bytes, which proves it has them: the hub never vouches for content by its hash alone)."""
    stored = ctx.storage.get_blob(oid)
    if stored is None or stored.size != size or not ctx.may_reference_sync(principal, repo, oid):
        return False
    ctx.storage.touch_blob(oid, repo)
    return True


async def lfs_download_batch(request: Request, ctx: HubContext, p: Params, body: dict[str, Any]) -> Response:
    """The Git LFS batch API's ``download`` operation (``git lfs`` after ``git clone``): signed links to objects
    of this repo's history."""
    repo = await ctx.readable_repo(request, p["type"], p["ns"], p["name"])
    objects = body.get("objects")
    if not isinstance(objects, list) or len(objects) > MAX_PREUPLOAD_FILES:
        raise BadRequest(f"LFS batch: 'objects' must be a list of at most {MAX_PREUPLOAD_FILES} entries")
    prefix = base_url(request, ctx.config.public_url)

    def answer(obj: Any) -> dict[str, Any]:
        obj = expect_dict(obj, "LFS object")
        oid, size = obj.get("oid"), obj.get("size")
        try:
            validate_sha256(oid)
        except BadRequest as exc:
            return {"oid": str(oid), "size": 0, "error": {"code": 422, "message": exc.message}}
        blob = ctx.storage.get_blob(oid)
        if blob is None or not ctx.storage.repo_has_object(repo, oid):
            return {"oid": oid, "size": size, "error": {"code": 404, "message": "object not found"}}
        expires, signature = ctx.signer.sign_text(f"lfs-get\n{repo.key}\n{oid}")
        href = (
            f"{prefix}/api/lfs-objects/{REPO_TYPES[repo.type]}/{repo.repo_id}/{oid}"
            f"?expires={expires}&signature={signature}"
        )
        return {
            "oid": oid,
            "size": blob.size,
            "authenticated": True,
            "actions": {"download": {"href": href, "expires_in": ctx.config.upload_url_ttl}},
        }

    answers = await ctx.run(lambda: [answer(obj) for obj in objects])
    return json_response(
        {"transfer": "basic", "objects": answers, "hash_algo": "sha256"}, media_type=LFS_MEDIA_TYPE
    )
