"""Repo-level routes: create/delete/settings, info, tree, paths-info, refs, branches, tags, commit history."""

from __future__ import annotations

import base64
import hashlib
import html
import json
from typing import Any
from urllib.parse import parse_qs, urlencode

from starlette.requests import Request
from starlette.responses import Response

from zoo import __version__
from zoo.hub.server.cards import MAX_CARD_BYTES, parse_card
from zoo.hub.server.context import HubContext
from zoo.hub.server.errors import BadRequest, Conflict, EntryNotFound, Forbidden, Unauthorized
from zoo.hub.server.http import base_url, expect_dict, iso_time, json_response, read_body, read_json
from zoo.hub.server.storage import Commit, Entry, Repo
from zoo.hub.server.validation import (
    REPO_TYPES,
    is_commit_id,
    validate_path,
    validate_repo_id,
    validate_repo_part,
    validate_repo_type,
    validate_revision,
)

Params = dict[str, str]
TREE_PAGE = 1000
LIST_PAGE = 1000
COMMITS_PAGE = 50


def url_prefix(repo: Repo) -> str:
    """``datasets/``/``spaces/`` for those repo types, nothing for models (as in Hub URLs)."""
    return "" if repo.type == "model" else f"{REPO_TYPES[repo.type]}/"


# -- listings -------------------------------------------------------------------------------------------------


def file_item(entry: Entry) -> dict[str, Any]:
    """A file as the tree/paths-info endpoints describe it."""
    item: dict[str, Any] = {"type": "file", "oid": entry.oid, "size": entry.size, "path": entry.path}
    if entry.lfs:
        item["lfs"] = {"oid": entry.sha256, "size": entry.size, "pointerSize": len(entry.pointer)}
    if entry.xet_hash:
        item["xetHash"] = entry.xet_hash
    return item


def folder_item(path: str, children: list[Entry]) -> dict[str, Any]:
    """A folder: its ``oid`` is a digest of the files beneath it (changes whenever they do)."""
    digest = hashlib.sha1()
    for entry in children:
        digest.update(f"{entry.path}\x00{entry.oid}\n".encode())
    return {"type": "directory", "oid": digest.hexdigest(), "size": 0, "path": path}


def list_tree(entries: list[Entry], prefix: str, recursive: bool) -> list[dict[str, Any]]:
    """Files and folders under ``prefix`` (all levels when ``recursive``), sorted by path."""
    start = len(prefix) + 1 if prefix else 0
    folders: dict[str, list[Entry]] = {}
    files: list[Entry] = []
    for entry in entries:
        rel_parts = entry.path[start:].split("/")
        if len(rel_parts) == 1:
            files.append(entry)
        depth = len(rel_parts) - 1 if recursive else min(1, len(rel_parts) - 1)
        for i in range(1, depth + 1):
            folders.setdefault(entry.path[:start] + "/".join(rel_parts[:i]), []).append(entry)
        if recursive and len(rel_parts) > 1:
            files.append(entry)
    items = [file_item(e) for e in files] + [folder_item(p, c) for p, c in folders.items()]
    return sorted(items, key=lambda item: item["path"])


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes"}


def _cursor(value: str | None) -> int:
    if not value:
        return 0
    try:
        offset = int(base64.urlsafe_b64decode(value.encode() + b"==").decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("invalid pagination cursor") from exc
    if offset < 0:
        raise BadRequest("invalid pagination cursor")
    return offset


def _page(request: Request, ctx: HubContext, items: list[Any], default_limit: int) -> Response:
    """One page of ``items`` with a ``Link: <...>; rel="next"`` header when more remain."""
    params = request.query_params
    offset = _cursor(params.get("cursor"))
    try:
        limit = max(1, min(int(params.get("limit") or default_limit), default_limit))
    except ValueError as exc:
        raise BadRequest("invalid limit") from exc
    page = items[offset : offset + limit]
    headers = {}
    if offset + limit < len(items):
        query = [(k, v) for k, v in params.multi_items() if k != "cursor"]
        query.append(("cursor", base64.urlsafe_b64encode(str(offset + limit).encode()).decode().rstrip("=")))
        raw_path = request.scope.get("raw_path", b"").decode("latin-1")
        headers["Link"] = (
            f'<{base_url(request, ctx.config.public_url)}{raw_path}?{urlencode(query)}>; rel="next"'
        )
    return json_response(page, headers=headers)


# -- repo info ------------------------------------------------------------------------------------------------


def _card_metadata(ctx: HubContext, commit: Commit) -> dict[str, Any]:
    readme = ctx.storage.entry(commit.tree, "README.md")
    if readme is None or readme.size > MAX_CARD_BYTES:
        return {}
    text = ctx.read_entry(readme).decode("utf-8", "replace")
    data, _ = parse_card(text)
    return data or {}


def repo_info_payload(ctx: HubContext, repo: Repo, commit: Commit) -> dict[str, Any]:
    """What ``model_info``/``dataset_info``/``repo_info`` read: id, sha, siblings, card data, dates."""
    entries = ctx.storage.entries(commit.tree)
    card = _card_metadata(ctx, commit)
    tags = card.get("tags") if isinstance(card.get("tags"), list) else []
    siblings = []
    for e in entries:
        sibling: dict[str, Any] = {"rfilename": e.path, "size": e.size, "blobId": e.oid}
        if e.lfs:
            sibling["lfs"] = {"size": e.size, "sha256": e.sha256, "pointerSize": len(e.pointer)}
        siblings.append(sibling)
    payload: dict[str, Any] = {
        "_id": hashlib.sha1(repo.key.encode()).hexdigest()[:24],
        "id": repo.repo_id,
        "author": repo.namespace,
        "sha": commit.oid,
        "lastModified": iso_time(commit.created_at),
        "createdAt": iso_time(repo.created_at),
        "private": repo.private,
        "gated": False,
        "disabled": False,
        "downloads": 0,
        "likes": 0,
        "tags": [str(t) for t in tags],
        "cardData": card or None,
        "siblings": siblings,
        "usedStorage": sum(e.size for e in entries),
    }
    if repo.type == "model":
        payload["modelId"] = repo.repo_id
        for key in ("library_name", "pipeline_tag"):
            if isinstance(card.get(key), str):
                payload[key] = card[key]
    if repo.type == "space":
        payload["sdk"] = card.get("sdk") if isinstance(card.get("sdk"), str) else "static"
    return payload


async def repo_info(request: Request, ctx: HubContext, p: Params) -> Response:
    """``GET /api/{type}s/{repo}[/revision/{rev}]``."""
    repo = await ctx.readable_repo(request, p["type"], p["ns"], p["name"])
    revision = validate_revision(p.get("rev") or "main")
    commit = await ctx.run(ctx.storage.resolve, repo, revision)
    return json_response(await ctx.run(repo_info_payload, ctx, repo, commit))


def card_tags(ctx: HubContext, commit: Commit | None) -> list[str]:
    """The tags a listing filter matches: the card's ``tags``, ``library_name``, ``pipeline_tag``, ``license``."""
    if commit is None:
        return []
    card = _card_metadata(ctx, commit)
    tags = [str(t) for t in card.get("tags", []) if isinstance(t, (str, int, float))] if isinstance(
        card.get("tags"), list
    ) else []
    for key in ("library_name", "pipeline_tag"):
        if isinstance(card.get(key), str):
            tags.append(card[key])
    if isinstance(card.get("license"), str):
        tags.append(f"license:{card['license']}")
    return tags


#: ``sort=`` keys of the listing and what they sort by (always newest/biggest first unless ``direction=1``).
SORT_KEYS = {"lastModified", "createdAt", "id", "downloads", "likes", "trendingScore"}


async def list_repos(request: Request, ctx: HubContext, p: Params) -> Response:
    """``GET /api/{type}s?author=&search=&filter=&sort=&direction=&limit=``: the repos the caller may read.

    ``filter`` (repeatable) keeps repos whose card carries every given tag (``tags``, ``library_name``,
    ``pipeline_tag``, ``license:...``); ``sort`` orders by ``lastModified``, ``createdAt`` or ``id`` (descending
    unless ``direction=1``; ``downloads``/``likes``/``trendingScore`` are all zero here and keep the id order).
    """
    principal = ctx.principal(request)
    if ctx.config.read_requires_token and not principal.authenticated:
        raise Unauthorized("this hub requires a token for reads", code="Unauthorized")
    repo_type = validate_repo_type(p["type"])
    params = request.query_params
    author = params.get("author") or None
    search = params.get("search") or None
    filters = [f for f in params.getlist("filter") if f]
    sort = params.get("sort") or None
    if author is not None:
        validate_repo_part(author, "author")
    if search is not None and (len(search) > 200 or not search.isprintable()):
        raise BadRequest("invalid search string")
    if sort is not None and sort not in SORT_KEYS:
        raise BadRequest(f"invalid sort {sort!r}: expected one of {', '.join(sorted(SORT_KEYS))}")
    if len(filters) > 20 or any(len(f) > 200 for f in filters):
        raise BadRequest("too many or too long filters")

    def listing() -> list[dict[str, Any]]:
        found = ctx.storage.list_repos(repo_type, include_private=True, author=author, search=search)
        items: list[tuple[Any, dict[str, Any]]] = []
        for repo, head in found:
            if not ctx.can_read(repo, principal):
                continue
            tags = card_tags(ctx, head)
            if filters and not all(f in tags for f in filters):
                continue
            item: dict[str, Any] = {
                "_id": hashlib.sha1(repo.key.encode()).hexdigest()[:24],
                "id": repo.repo_id,
                "author": repo.namespace,
                "private": repo.private,
                "createdAt": iso_time(repo.created_at),
                "downloads": 0,
                "likes": 0,
                "tags": tags,
            }
            if head is not None:
                item["sha"] = head.oid
                item["lastModified"] = iso_time(head.created_at)
            if repo.type == "model":
                item["modelId"] = repo.repo_id
            order = {
                "lastModified": (head.created_at if head else 0.0, repo.created_at),
                "createdAt": (repo.created_at, 0.0),
                "id": repo.repo_id.lower(),
            }
            items.append((order.get(sort or ""), item))
        if sort in ("lastModified", "createdAt", "id"):
            descending = params.get("direction", "-1") != "1"
            items.sort(key=lambda pair: pair[0], reverse=descending)
        return [item for _, item in items]

    return _page(request, ctx, await ctx.run(listing), LIST_PAGE)


async def storage_listing(request: Request, ctx: HubContext, p: Params) -> Response:
    """``GET /api/settings/repositories`` (the caller's repos) and ``/api/organizations/{org}/settings/repositories``
    (an organisation's; members only): what ``hf repos ls`` lists, with the bytes each repo's main branch holds."""
    principal = ctx.principal(request)
    if not principal.authenticated:
        raise Unauthorized("Invalid user token.", code="Unauthorized")
    namespace = p.get("ns") or principal.name
    validate_repo_part(namespace, "namespace")
    if not (principal.admin or principal.owns(namespace, write=False)):
        raise Forbidden(f"{principal.name} is not a member of {namespace!r}")

    def listing() -> list[dict[str, Any]]:
        items = []
        for repo_type in REPO_TYPES:
            for repo, head in ctx.storage.list_repos(repo_type, include_private=True, author=namespace):
                if not ctx.can_read(repo, principal):
                    continue
                used = sum(e.size for e in ctx.storage.entries(head.tree)) if head else 0
                items.append(
                    {
                        "id": repo.repo_id,
                        "type": repo.type,
                        "updatedAt": iso_time(head.created_at if head else repo.created_at),
                        "visibility": "private" if repo.private else "public",
                        "storage": used,
                    }
                )
        return items

    return _page(request, ctx, await ctx.run(listing), LIST_PAGE)


async def tree(request: Request, ctx: HubContext, p: Params) -> Response:
    """``GET /api/{type}s/{repo}/tree/{rev}[/{path}]?recursive=&cursor=&limit=``."""
    repo = await ctx.readable_repo(request, p["type"], p["ns"], p["name"])
    commit = await ctx.run(ctx.storage.resolve, repo, validate_revision(p["rev"]))
    prefix = validate_path(p.get("path", "").rstrip("/"), allow_empty=True)
    entries = await ctx.run(ctx.storage.entries, commit.tree, prefix)
    if prefix and not entries:
        raise EntryNotFound(f"{prefix} does not exist on {p['rev']}", headers={"X-Repo-Commit": commit.oid})
    items = list_tree(entries, prefix, _flag(request.query_params.get("recursive")))
    if _flag(request.query_params.get("expand")):
        latest = await ctx.run(last_commits, ctx, repo, commit, [item["path"] for item in items])
        for item in items:
            found = latest.get(item["path"])
            if found is not None:
                item["lastCommit"] = {"id": found.oid, "title": found.title, "date": iso_time(found.created_at)}
    return _page(request, ctx, items, TREE_PAGE)


#: How many commits ``expand=True`` walks back to find each path's last commit.
LAST_COMMIT_DEPTH = 1000


def last_commits(ctx: HubContext, repo: Repo, start: Commit, paths: list[str]) -> dict[str, Commit]:
    """For each path (file or folder), the newest commit from ``start`` back that changed it."""
    def snapshot(commit: Commit) -> dict[str, tuple[str, bool]]:
        return {e.path: (e.sha256, e.lfs) for e in ctx.storage.entries(commit.tree)}

    def under(files: dict[str, tuple[str, bool]], path: str) -> dict[str, tuple[str, bool]]:
        if path in files:
            return {path: files[path]}
        prefix = path + "/"
        return {k: v for k, v in files.items() if k.startswith(prefix)}

    found: dict[str, Commit] = {}
    pending = list(dict.fromkeys(paths))
    commit: Commit | None = start
    files = snapshot(start)
    depth = 0
    while commit is not None and pending and depth < LAST_COMMIT_DEPTH:
        parent = ctx.storage.get_commit(repo, commit.parent) if commit.parent else None
        parent_files = snapshot(parent) if parent is not None else {}
        for path in list(pending):
            if under(files, path) != under(parent_files, path):
                found[path] = commit
                pending.remove(path)
        commit, files = parent, parent_files
        depth += 1
    return found


async def paths_info(request: Request, ctx: HubContext, p: Params) -> Response:
    """``POST /api/{type}s/{repo}/paths-info/{rev}``, form-encoded ``paths=...&paths=...``."""
    repo = await ctx.readable_repo(request, p["type"], p["ns"], p["name"])
    commit = await ctx.run(ctx.storage.resolve, repo, validate_revision(p["rev"]))
    body = await read_body(request, ctx.config.max_json_bytes)
    content_type = request.headers.get("content-type", "")
    if "json" in content_type:
        try:
            raw_paths = expect_dict(json.loads(body or b"{}"), "paths-info body").get("paths", [])
        except json.JSONDecodeError as exc:
            raise BadRequest(f"malformed JSON body: {exc}") from exc
        raw_paths = raw_paths if isinstance(raw_paths, list) else [raw_paths]
    else:
        try:
            raw_paths = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False).get(
                "paths", []
            )
        except UnicodeDecodeError as exc:
            raise BadRequest("form body is not UTF-8") from exc
    paths = [validate_path(str(x).rstrip("/")) for x in raw_paths]

    def lookup() -> list[dict[str, Any]]:
        out = []
        for path in dict.fromkeys(paths):
            entry = ctx.storage.entry(commit.tree, path)
            if entry is not None:
                out.append(file_item(entry))
                continue
            children = ctx.storage.entries(commit.tree, path)
            if children:
                out.append(folder_item(path, children))
        return out

    return json_response(await ctx.run(lookup))


# -- repo lifecycle -------------------------------------------------------------------------------------------


async def create_repo(request: Request, ctx: HubContext, p: Params) -> Response:
    """``POST /api/repos/create`` ``{"name", "organization", "type"?, "private"?|"visibility"?}``; 409 if taken."""
    principal = ctx.require_writer(request)
    body = expect_dict(await read_json(request, ctx.config.max_json_bytes), "create body")
    repo_type = validate_repo_type(body.get("type"))
    name, organization = body.get("name"), body.get("organization")
    if organization is None and isinstance(name, str) and "/" in name:
        organization, name = name.split("/", 1)
    if organization is None:  # as on the Hub: a repo id without namespace goes to the caller's own namespace
        organization = principal.name
    ns, nm = validate_repo_id(organization, name)
    ctx.check_write(principal, ns, nm)
    private = ctx.config.private_by_default
    if isinstance(body.get("private"), bool):
        private = body["private"]
    visibility = body.get("visibility")
    if visibility is not None:
        if visibility not in ("public", "private", "protected"):
            raise BadRequest(f"invalid visibility {visibility!r}: expected 'public' or 'private'")
        private = visibility != "public"
    prefix = "" if repo_type == "model" else f"{REPO_TYPES[repo_type]}/"
    try:
        repo = await ctx.run(
            ctx.storage.create_repo, repo_type, ns, nm, private=private, author=principal.name
        )
    except (
        Conflict
    ) as exc:  # the Hub's 409 carries the existing repo's url (create_repo(exist_ok=True) reads it)
        exc.extra["url"] = f"{base_url(request, ctx.config.public_url)}/{prefix}{ns}/{nm}"
        raise
    url = f"{base_url(request, ctx.config.public_url)}/{url_prefix(repo)}{repo.repo_id}"
    return json_response({"url": url, "name": repo.repo_id, "id": repo.repo_id})


async def delete_repo(request: Request, ctx: HubContext, p: Params) -> Response:
    """``DELETE /api/repos/delete`` ``{"name", "organization", "type"?}``."""
    body = expect_dict(await read_json(request, ctx.config.max_json_bytes), "delete body")
    repo, _ = await ctx.writable_repo(
        request, body.get("type") or "model", body.get("organization"), body.get("name")
    )
    await ctx.run(ctx.storage.delete_repo, repo)
    return json_response({})


async def settings(request: Request, ctx: HubContext, p: Params) -> Response:
    """``PUT /api/{type}s/{repo}/settings`` ``{"private": bool}`` or ``{"visibility": ...}``."""
    repo, _ = await ctx.writable_repo(request, p["type"], p["ns"], p["name"])
    body = expect_dict(await read_json(request, ctx.config.max_json_bytes), "settings body")
    private: bool | None = body["private"] if isinstance(body.get("private"), bool) else None
    if body.get("visibility") is not None:
        private = body["visibility"] != "public"
    if private is not None:
        await ctx.run(ctx.storage.set_private, repo, private)
    return json_response({})


# -- refs -----------------------------------------------------------------------------------------------------


async def refs(request: Request, ctx: HubContext, p: Params) -> Response:
    """``GET /api/{type}s/{repo}/refs``: branches and tags with their target commits."""
    repo = await ctx.readable_repo(request, p["type"], p["ns"], p["name"])
    listing = await ctx.run(ctx.storage.list_refs, repo)
    return json_response(
        {
            "branches": [
                {"name": n, "ref": f"refs/heads/{n}", "targetCommit": t} for n, t in listing["branch"]
            ],
            "tags": [{"name": n, "ref": f"refs/tags/{n}", "targetCommit": t} for n, t in listing["tag"]],
            "converts": [],
            "pullRequests": [],
        }
    )


def _ref_name(value: str, kind: str) -> str:
    name = validate_revision(value)
    if is_commit_id(name):
        raise BadRequest(f"invalid {kind} name {name!r}: it looks like a commit id")
    return name


async def branch(request: Request, ctx: HubContext, p: Params) -> Response:
    """``POST /api/{type}s/{repo}/branch/{name}`` ``{"startingPoint"?}``; ``DELETE`` removes it."""
    repo, _ = await ctx.writable_repo(request, p["type"], p["ns"], p["name"])
    name = _ref_name(p["rev"], "branch")
    if request.method == "DELETE":
        await ctx.run(ctx.storage.delete_ref, repo, "branch", name)
        return json_response({})
    body = expect_dict(await read_json(request, ctx.config.max_json_bytes, allow_empty=True), "branch body")
    start = validate_revision(body.get("startingPoint") or "main")
    commit = await ctx.run(ctx.storage.resolve, repo, start)
    await ctx.run(ctx.storage.create_ref, repo, "branch", name, commit.oid)
    return json_response({})


async def tag(request: Request, ctx: HubContext, p: Params) -> Response:
    """``POST /api/{type}s/{repo}/tag/{rev}`` ``{"tag", "message"?}``; ``DELETE /tag/{name}`` removes a tag."""
    repo, _ = await ctx.writable_repo(request, p["type"], p["ns"], p["name"])
    if request.method == "DELETE":
        await ctx.run(ctx.storage.delete_ref, repo, "tag", _ref_name(p["rev"], "tag"))
        return json_response({})
    body = expect_dict(await read_json(request, ctx.config.max_json_bytes), "tag body")
    name = _ref_name(body.get("tag") or "", "tag")
    message = body.get("message")
    commit = await ctx.run(ctx.storage.resolve, repo, validate_revision(p["rev"]))
    await ctx.run(
        ctx.storage.create_ref, repo, "tag", name, commit.oid, message if isinstance(message, str) else None
    )
    return json_response({})


async def commits(request: Request, ctx: HubContext, p: Params) -> Response:
    """``GET /api/{type}s/{repo}/commits/{rev}``: the history, newest first, paginated."""
    repo = await ctx.readable_repo(request, p["type"], p["ns"], p["name"])
    start = await ctx.run(ctx.storage.resolve, repo, validate_revision(p["rev"]))
    history = await ctx.run(ctx.storage.history, repo, start, 100_000)
    formatted = "formatted" in request.query_params.getlist("expand[]") + request.query_params.getlist("expand")
    items = []
    for c in history:
        item: dict[str, Any] = {
            "id": c.oid,
            "title": c.title,
            "message": c.message,
            "authors": [{"user": c.author}],
            "date": iso_time(c.created_at),
        }
        if formatted:  # the Hub's HTML rendering of title and message (escaped text; paragraphs for the message)
            item["formatted"] = {"title": html.escape(c.title), "message": format_message(c.message)}
        items.append(item)
    return _page(request, ctx, items, COMMITS_PAGE)


def format_message(message: str) -> str:
    """A commit description as HTML: escaped text, one ``<p>`` per paragraph, line breaks kept."""
    paragraphs = [part.strip() for part in message.replace("\r\n", "\n").split("\n\n") if part.strip()]
    return "".join(f"<p>{html.escape(part).replace(chr(10), '<br>')}</p>" for part in paragraphs)


# -- misc -----------------------------------------------------------------------------------------------------


async def whoami(request: Request, ctx: HubContext, p: Params) -> Response:
    """``GET /api/whoami-v2``: the token's user name."""
    principal = ctx.principal(request)
    if not principal.authenticated:
        raise Unauthorized("Invalid user token.")
    orgs = await ctx.run(ctx.accounts.org_names, principal.name)
    return json_response(
        {
            "type": "user",
            "name": principal.name,
            "fullname": principal.name,
            "isAdmin": principal.admin,
            "orgs": [{"type": "org", "name": org, "fullname": org} for org in orgs],
            "auth": {
                "type": "access_token",
                "accessToken": {"displayName": principal.name, "role": principal.scope},
            },
        }
    )


async def validate_yaml(request: Request, ctx: HubContext, p: Params) -> Response:
    """``POST /api/validate-yaml`` ``{"content", "repoType"}``: YAML errors of a model card's metadata."""
    ctx.principal(request)  # no token needed (ModelCard.push_to_hub sends none), but a bad one is still a 401
    body = expect_dict(await read_json(request, ctx.config.max_json_bytes), "validate-yaml body")
    content = body.get("content")
    if not isinstance(content, str):
        raise BadRequest("validate-yaml: 'content' must be a string")
    _, error = parse_card(content)
    return json_response({"errors": [{"message": error}] if error else [], "warnings": []})


async def root(request: Request, ctx: HubContext, p: Params) -> Response:
    """``GET /``: identifies the server; never lists anything."""
    return json_response({"name": "zoo-hub", "version": __version__})



