"""The ASGI application: routing on the raw (still percent-encoded) path, error rendering and the request log.

Routing uses the raw path because the Hub's URLs carry revisions quoted with ``safe=""`` (a branch ``a/b`` arrives
as ``a%2Fb``): each segment is split first and unquoted after, which Starlette's decoded ``path`` cannot do.
Requests and responses are Starlette objects; uvicorn serves the app (see :mod:`zoo.hub.server.runner`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zoo.hub.server import routes_repos as repos
from zoo.hub.server import routes_git, routes_resolve, routes_upload, web
from zoo.hub.server.xet import routes as xet_routes
from zoo.hub.server.config import HubConfig
from zoo.hub.server.context import HubContext
from zoo.hub.server.errors import BadRequest, HubRequestError, NotFound
from zoo.hub.server.http import error_response, json_response
from zoo.hub.server.validation import REPO_TYPE_SEGMENTS

access_log = logging.getLogger("zoo.hub.access")
error_log = logging.getLogger("zoo.hub.server")

Handler = Callable[[Request, HubContext, dict[str, str]], Awaitable[Any]]
TYPE_SEGMENTS = {"datasets", "spaces"}
MAX_RAW_PATH = 4096


#: ``/api/...`` routes with a fixed path: path segments -> method -> handler.
_FIXED_ROUTES: dict[tuple[str, ...], dict[str, Handler]] = {
    ("repos", "create"): {"POST": repos.create_repo},
    ("repos", "delete"): {"DELETE": repos.delete_repo},
    ("whoami-v2",): {"GET": repos.whoami},
    ("validate-yaml",): {"POST": repos.validate_yaml},
    ("settings", "repositories"): {"GET": repos.storage_listing},
}
#: ``/api/{type}s/{ns}/{name}/{action}/{rev}`` routes: (action, method) -> handler.
_REPO_ACTION_ROUTES: dict[tuple[str, str], Handler] = {
    ("paths-info", "POST"): repos.paths_info,
    ("preupload", "POST"): routes_upload.preupload,
    ("commit", "POST"): routes_upload.commit,
    ("commits", "GET"): repos.commits,
    ("branch", "POST"): repos.branch,
    ("branch", "DELETE"): repos.branch,
    ("tag", "POST"): repos.tag,
    ("tag", "DELETE"): repos.tag,
    ("xet-write-token", "GET"): xet_routes.xet_write_token,
    ("xet-read-token", "GET"): xet_routes.xet_read_token,
}


def _match(segments: list[str], method: str) -> tuple[Handler, dict[str, str]] | None:
    """Find the handler for a list of unquoted path segments; None when no route matches."""
    n = len(segments)
    if n == 0 or segments == [""]:
        return (web.home, {"web": "1"}) if method in ("GET", "HEAD") else None
    if segments[0] == "api":
        return _match_api(segments[1:], method)
    # /{datasets|spaces}/{ns}/{name}/... or /{ns}/{name}/...
    repo_type = "model"
    rest = segments
    if segments[0] in TYPE_SEGMENTS:
        repo_type, rest = REPO_TYPE_SEGMENTS[segments[0]], segments[1:]
    if len(rest) >= 5 and rest[2] == "resolve" and method in ("GET", "HEAD"):
        return routes_resolve.resolve, {
            "type": repo_type,
            "ns": rest[0],
            "name": rest[1],
            "rev": rest[3],
            "path": "/".join(rest[4:]),
        }
    if (
        len(rest) == 6
        and rest[1].endswith(".git")
        and rest[2:] == ["info", "lfs", "objects", "batch"]
        and method == "POST"
    ):
        return routes_upload.lfs_batch, {"type": repo_type, "ns": rest[0], "name": rest[1][: -len(".git")]}
    if len(rest) >= 3:
        git = {"type": repo_type, "ns": rest[0], "name": rest[1].removesuffix(".git")}
        if rest[2:] == ["info", "refs"] and method == "GET":
            return routes_git.info_refs, git
        if rest[2:] == ["git-upload-pack"] and method == "POST":
            return routes_git.upload_pack, git
    page = web.match(segments, method)
    if page is not None:
        return page[0], {**page[1], "web": "1"}
    return None


def _match_cas(seg: list[str], method: str) -> tuple[Handler, dict[str, str]] | None:
    """The Xet CAS API under ``/api/xet-cas/`` (``seg`` excludes ``api/xet-cas``)."""
    n = len(seg)
    if n == 3 and seg[1] == "reconstructions" and seg[0] in ("v1", "v2") and method == "GET":
        return xet_routes.reconstruction, {"version": seg[0], "hash": seg[2]}
    if n == 4 and seg[:3] == ["v1", "xorbs", "default"] and method == "POST":
        return xet_routes.upload_xorb, {"hash": seg[3]}
    if seg == ["v1", "shards"] and method == "POST":
        return xet_routes.upload_shard, {}
    if n == 4 and seg[:2] == ["v1", "xorb-grants"] and method == "POST":
        return xet_routes.no_global_dedup, {"hash": seg[3]}
    if seg == ["v1", "telemetry"] and method == "POST":
        return xet_routes.telemetry, {}
    if n == 4 and seg[:2] == ["v1", "chunks"] and method == "GET":
        return xet_routes.no_global_dedup, {"hash": seg[3]}
    if n == 2 and seg[0] == "xorb-data" and method in ("GET", "HEAD"):
        return xet_routes.xorb_data, {"hash": seg[1]}
    return None


def _match_api(seg: list[str], method: str) -> tuple[Handler, dict[str, str]] | None:
    """Routes under ``/api/`` (``seg`` excludes the leading ``api``)."""
    n = len(seg)
    if seg[:1] == ["xet-cas"]:
        return _match_cas(seg[1:], method)
    if n == 4 and seg[0] == "organizations" and seg[2:] == ["settings", "repositories"] and method == "GET":
        return repos.storage_listing, {"ns": seg[1]}
    if n == 5 and seg[0] == "lfs-objects" and seg[1] in REPO_TYPE_SEGMENTS and method in ("GET", "HEAD"):
        return routes_resolve.lfs_object, {
            "type": REPO_TYPE_SEGMENTS[seg[1]],
            "ns": seg[2],
            "name": seg[3],
            "oid": seg[4],
        }
    if tuple(seg) in _FIXED_ROUTES:
        handler = _FIXED_ROUTES[tuple(seg)].get(method)
        return (handler, {}) if handler else None
    if n == 5 and seg[0] == "lfs-upload" and seg[1] in REPO_TYPE_SEGMENTS and method == "PUT":
        return routes_upload.lfs_upload, {
            "type": REPO_TYPE_SEGMENTS[seg[1]],
            "ns": seg[2],
            "name": seg[3],
            "rev": seg[4],
        }
    if n == 1 and seg[0] in REPO_TYPE_SEGMENTS and method == "GET":
        return repos.list_repos, {"type": REPO_TYPE_SEGMENTS[seg[0]]}
    if n < 3 or seg[0] not in REPO_TYPE_SEGMENTS:
        return None
    params = {"type": REPO_TYPE_SEGMENTS[seg[0]], "ns": seg[1], "name": seg[2]}
    tail = seg[3:]
    if not tail:
        return (repos.repo_info, params) if method == "GET" else None
    action = tail[0]
    if len(tail) == 2 and method == "GET" and action == "revision":
        return repos.repo_info, {**params, "rev": tail[1]}
    if len(tail) >= 2 and method == "GET" and action == "tree":
        return repos.tree, {**params, "rev": tail[1], "path": "/".join(tail[2:])}
    if len(tail) == 1 and action == "refs" and method == "GET":
        return repos.refs, params
    if len(tail) == 1 and action == "settings" and method == "PUT":
        return repos.settings, params
    if len(tail) != 2:
        return None
    handler = _REPO_ACTION_ROUTES.get((action, method))
    return (handler, {**params, "rev": tail[1]}) if handler else None


class HubApp:
    """ASGI app: dispatch, Hub-format errors, and exactly one access-log line per request (never the query string,
    never a header: tokens and upload signatures stay out of the logs)."""

    def __init__(self, ctx: HubContext) -> None:
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 0, "bytes": 0}

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
            elif message["type"] == "http.response.body":
                state["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self._dispatch(scope, receive, send_logged)
        finally:
            raw_path = scope.get("raw_path") or scope.get("path", "").encode()
            shown = raw_path[:300].decode("latin-1") + ("..." if len(raw_path) > 300 else "")
            client = scope.get("client") or ("-", 0)
            access_log.info(
                '%s "%s %s" %d %d %.1fms user=%s',
                client[0],
                scope["method"],
                shown,
                499 if scope.get("zoo.disconnected") else state["status"],
                state["bytes"],
                (time.perf_counter() - started) * 1000,
                scope.get("zoo.user", "-"),
            )

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            response = await self._route(request)
            await response(scope, receive, tracking_send)
        except ClientDisconnect:
            # The client went away mid-request (an upload cancelled or killed): nothing to answer, nothing wrong.
            scope["zoo.disconnected"] = True
            error_log.info(
                "client disconnected during %s %s; the partial request was discarded",
                scope["method"],
                (scope.get("raw_path") or b"")[:300].decode("latin-1"),
            )
        except HubRequestError as exc:
            if started:
                raise
            render = web.error_page if scope.get("zoo.web") else error_response
            await render(exc)(scope, receive, send)
        except Exception:  # noqa: BLE001 - any bug becomes a logged 500, never a dropped connection
            error_log.exception(
                "internal error while serving %s %s",
                scope["method"],
                (scope.get("raw_path") or b"")[:300].decode("latin-1"),
            )
            if not started:
                await json_response({"error": "internal server error"}, status=500)(scope, receive, send)

    async def _route(self, request: Request) -> Any:
        raw = request.scope.get("raw_path") or request.scope["path"].encode()
        if len(raw) > MAX_RAW_PATH:
            raise BadRequest("request path too long")
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError as exc:
            raise BadRequest("request path must be percent-encoded ASCII") from exc
        parts = text.split("/")[1:]
        while len(parts) > 1 and parts[-1] == "":
            parts.pop()
        try:
            segments = [unquote(part, errors="strict") for part in parts]
        except UnicodeDecodeError as exc:
            raise BadRequest("request path is not valid UTF-8 once decoded") from exc
        method = request.method
        if segments and segments[0] == "api" and segments[1:2] == ["agent-harnesses"]:
            raise NotFound("not found")
        found = _match(segments, method)
        if found is None:
            raise NotFound(f"no route for {method} {text[:200]}")
        handler, params = found
        if params.pop("web", None):
            request.scope["zoo.web"] = True
        return await handler(request, self.ctx, params)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.ctx.storage.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_app(config: HubConfig) -> ASGIApp:
    """Build the hub ASGI app for ``config`` (opens/creates the storage root)."""
    return HubApp(HubContext(config))
