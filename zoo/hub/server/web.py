"""A small server-rendered web site for people: repo list with search, repo page (model card, metrics table, files),
file tree and file pages, commit history and commits. No JavaScript.

Everything shown is untrusted (cards, file names, commit messages): every value goes through :func:`html.escape`,
and Markdown is rendered by markdown-it with raw HTML *disabled* (a ``<script>`` or ``onerror=`` in a card shows
as text) and its default link validation (no ``javascript:`` links). Pages send a restrictive
Content-Security-Policy (no scripts at all, styles and images from this server only), ``nosniff`` and
``frame-ancestors 'none'``. Pages show public repos (a browser sends no token).
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from zoo.hub.server.cards import MAX_CARD_BYTES, parse_card, split_front_matter
from zoo.hub.server.context import HubContext
from zoo.hub.server.errors import EntryNotFound, HubRequestError
from zoo.hub.server.routes_repos import url_prefix
from zoo.hub.server.storage import Commit, Entry, Repo
from zoo.hub.server.validation import REPO_TYPES, validate_path, validate_repo_type, validate_revision

Params = dict[str, str]
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
TEXT_PREVIEW_BYTES = 256 * 1024
STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1f2328;background:#fff}
header{background:#24292f;padding:.6em 1.5em}header a{color:#fff;text-decoration:none;font-weight:600}
main{max-width:980px;margin:1.5em auto;padding:0 1em}
table{border-collapse:collapse;margin:.8em 0}td,th{border:1px solid #d0d7de;padding:.3em .7em;text-align:left}
th{background:#f6f8fa}code,pre{background:#f6f8fa;border-radius:4px}pre{padding:.8em;overflow:auto}
nav.tabs a{margin-right:1.2em}.muted{color:#656d76}.card{border:1px solid #d0d7de;border-radius:6px;padding:0 1.2em}
input[type=search]{padding:.35em;width:22em}td.size{text-align:right;font-variant-numeric:tabular-nums}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


def _page(title: str, body: str, status: int = 200) -> Response:
    text = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f'<title>{_e(title)}</title><link rel=stylesheet href="/static/hub.css"></head>'
        f'<body><header><a href="/">zoo hub</a></header><main>{body}</main></body></html>'
    )
    return Response(text, status_code=status, media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)


def render_markdown(text: str) -> str:
    """Markdown to HTML with raw HTML escaped (markdown-it, CommonMark + tables, ``html`` disabled)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").render(text)


def metrics_table(card: dict[str, Any]) -> str:
    """The card's ``model-index`` results as an HTML table (task, dataset, metric, value)."""
    rows = []
    index = card.get("model-index")
    for model in index if isinstance(index, list) else []:
        results = model.get("results") if isinstance(model, dict) else None
        for result in results if isinstance(results, list) else []:
            if not isinstance(result, dict):
                continue
            task = result.get("task") if isinstance(result.get("task"), dict) else {}
            dataset = result.get("dataset") if isinstance(result.get("dataset"), dict) else {}
            metrics = result.get("metrics")
            for metric in metrics if isinstance(metrics, list) else []:
                if isinstance(metric, dict):
                    rows.append(
                        (
                            task.get("name") or task.get("type") or "",
                            dataset.get("name") or dataset.get("type") or "",
                            metric.get("name") or metric.get("type") or "",
                            metric.get("value", ""),
                        )
                    )
    if not rows:
        return ""
    body = "".join(f"<tr><td>{_e(a)}</td><td>{_e(b)}</td><td>{_e(c)}</td><td>{_e(d)}</td></tr>" for a, b, c, d in rows)
    return (
        "<h2>Evaluation results</h2><table class=metrics><tr><th>Task</th><th>Dataset</th><th>Metric</th>"
        f"<th>Value</th></tr>{body}</table>"
    )


def _repo_url(repo: Repo) -> str:
    return "/" + url_prefix(repo) + quote(repo.repo_id)


def _tabs(repo: Repo, rev: str) -> str:
    base = _repo_url(repo)
    r = quote(rev, safe="")
    return (
        f'<h1><a href="{base}">{_e(repo.repo_id)}</a></h1><nav class=tabs><a href="{base}">Model card</a>'
        f'<a href="{base}/tree/{r}">Files</a><a href="{base}/commits/{r}">History</a></nav>'
    )


async def stylesheet(request: Request, ctx: HubContext, p: Params) -> Response:
    """``GET /static/hub.css``."""
    return Response(STYLE, media_type="text/css", headers={"Cache-Control": "public, max-age=3600", **SECURITY_HEADERS})


async def home(request: Request, ctx: HubContext, p: Params) -> Response:
    """``GET /`` (or ``/models``, ``/datasets``, ``/spaces``) ``?q=``: public repos, searchable by name."""
    query = request.query_params.get("q", "")[:200]
    types = [p["type"]] if p.get("type") else list(REPO_TYPES)
    principal = ctx.principal(request)

    def listing() -> list[tuple[Repo, Commit | None]]:
        found = []
        for repo_type in types:
            for repo, head in ctx.storage.list_repos(repo_type, include_private=True, search=query or None):
                if ctx.can_read(repo, principal):
                    found.append((repo, head))
        return found

    found = await ctx.run(listing)
    rows = "".join(
        f'<tr><td><a href="{_repo_url(r)}">{_e(r.repo_id)}</a></td><td>{_e(r.type)}</td>'
        f'<td class=muted>{_e(_date(h.created_at) if h else "")}</td></tr>'
        for r, h in found
    )
    body = (
        f'<form method=get action="/"><input type=search name=q value="{_e(query)}" placeholder="Search repos">'
        f" <button>Search</button></form><p class=muted>{len(found)} repo(s)</p>"
        f"<table><tr><th>Repo</th><th>Type</th><th>Updated</th></tr>{rows}</table>"
    )
    return _page("zoo hub", body)


def _date(timestamp: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(timestamp))


async def _repo(request: Request, ctx: HubContext, p: Params) -> Repo:
    return await ctx.readable_repo(request, p["type"], p["ns"], p["name"])


async def repo_page(request: Request, ctx: HubContext, p: Params) -> Response:
    """``GET /{repo}``: the model card (Markdown, metadata, metrics) and the top-level files."""
    repo = await _repo(request, ctx, p)

    def build() -> str:
        head = ctx.storage.resolve(repo, "main")
        entries = ctx.storage.entries(head.tree)
        card_html, metrics = "<p class=muted>No model card.</p>", ""
        readme = next((e for e in entries if e.path == "README.md"), None)
        if readme is not None and readme.size <= MAX_CARD_BYTES:
            text = ctx.read_entry(readme).decode("utf-8", "replace")
            data, _ = parse_card(text)
            body = _strip_front_matter(text)
            card_html = f"<div class=card>{render_markdown(body)}</div>"
            metrics = metrics_table(data or {})
        total = sum(e.size for e in entries)
        return (
            _tabs(repo, "main")
            + f"<p class=muted>{len(entries)} file(s), {_size(total)} · last commit "
            f'<a href="{_repo_url(repo)}/commit/{head.oid}">{_e(head.title)}</a> ({_date(head.created_at)})</p>'
            + metrics
            + card_html
            + _file_table(repo, "main", entries, "")
        )

    return _page(repo.repo_id, await ctx.run(build))


def _strip_front_matter(text: str) -> str:
    front = split_front_matter(text)
    if front is None:
        return text
    lines = text.splitlines(keepends=True)
    count = front.count("\n") + 3 if front else 2
    return "".join(lines[count:])


def _file_table(repo: Repo, rev: str, entries: list[Entry], prefix: str) -> str:
    """The files and folders directly under ``prefix`` with sizes and download links."""
    start = len(prefix) + 1 if prefix else 0
    folders: dict[str, int] = {}
    files = []
    for entry in entries:
        if prefix and not entry.path.startswith(prefix + "/"):
            continue
        rest = entry.path[start:]
        if "/" in rest:
            name = rest.split("/", 1)[0]
            folders[name] = folders.get(name, 0) + entry.size
        else:
            files.append(entry)
    base, r = _repo_url(repo), quote(rev, safe="")
    rows = [
        f'<tr><td><a href="{base}/tree/{r}/{quote(prefix + "/" + n if prefix else n)}">{_e(n)}/</a></td>'
        f"<td class=size>{_size(size)}</td><td></td></tr>"
        for n, size in sorted(folders.items())
    ]
    for entry in files:
        path = quote(entry.path)
        kind = "LFS" if entry.lfs else ""
        rows.append(
            f'<tr><td><a href="{base}/blob/{r}/{path}">{_e(entry.path[start:])}</a> '
            f"<span class=muted>{kind}</span></td><td class=size>{_size(entry.size)}</td>"
            f'<td><a href="{base}/resolve/{r}/{path}" download>download</a></td></tr>'
        )
    return f"<h2>Files</h2><table class=files><tr><th>Name</th><th>Size</th><th></th></tr>{''.join(rows)}</table>"


async def tree_page(request: Request, ctx: HubContext, p: Params) -> Response:
    """``GET /{repo}/tree/{rev}[/{path}]``."""
    repo = await _repo(request, ctx, p)
    rev = validate_revision(p["rev"])
    prefix = validate_path(p.get("path", "").rstrip("/"), allow_empty=True)

    def build() -> str:
        commit = ctx.storage.resolve(repo, rev)
        entries = ctx.storage.entries(commit.tree, prefix)
        if prefix and not entries:
            raise EntryNotFound(f"{prefix} does not exist at {rev}")
        crumbs = f" / {_e(prefix)}" if prefix else ""
        return _tabs(repo, rev) + f"<p class=muted>{_e(rev)}{crumbs}</p>" + _file_table(repo, rev, entries, prefix)

    return _page(f"{repo.repo_id} files", await ctx.run(build))


async def blob_page(request: Request, ctx: HubContext, p: Params) -> Response:
    """``GET /{repo}/blob/{rev}/{path}``: size, hashes, download link and a text preview."""
    repo = await _repo(request, ctx, p)
    rev = validate_revision(p["rev"])
    path = validate_path(p.get("path", ""))

    def build() -> str:
        commit = ctx.storage.resolve(repo, rev)
        entry = ctx.storage.entry(commit.tree, path)
        if entry is None:
            raise EntryNotFound(f"{path} does not exist at {rev}")
        preview = ""
        if entry.size <= TEXT_PREVIEW_BYTES and not entry.lfs:
            data = ctx.read_entry(entry)
            if b"\x00" not in data:
                preview = f"<pre>{_e(data.decode('utf-8', 'replace'))}</pre>"
        link = f"{_repo_url(repo)}/resolve/{quote(rev, safe='')}/{quote(path)}"
        return (
            _tabs(repo, rev)
            + f"<h2>{_e(path)}</h2><table><tr><th>Size</th><td>{_size(entry.size)} ({entry.size} bytes)</td></tr>"
            f"<tr><th>sha256</th><td><code>{entry.sha256}</code></td></tr>"
            f"<tr><th>Storage</th><td>{'Xet' if entry.xet_hash else 'LFS' if entry.lfs else 'git'}</td></tr></table>"
            f'<p><a href="{link}" download>download</a></p>{preview}'
        )

    return _page(f"{path} · {repo.repo_id}", await ctx.run(build))


async def commits_page(request: Request, ctx: HubContext, p: Params) -> Response:
    """``GET /{repo}/commits/{rev}``: history, newest first (200 at most)."""
    repo = await _repo(request, ctx, p)
    rev = validate_revision(p["rev"])

    def build() -> str:
        start = ctx.storage.resolve(repo, rev)
        rows = "".join(
            f'<tr><td><a href="{_repo_url(repo)}/commit/{c.oid}"><code>{c.oid[:10]}</code></a></td>'
            f"<td>{_e(c.title)}</td><td>{_e(c.author)}</td><td class=muted>{_date(c.created_at)}</td></tr>"
            for c in ctx.storage.history(repo, start, 200)
        )
        return _tabs(repo, rev) + f"<h2>History of {_e(rev)}</h2><table class=commits>{rows}</table>"

    return _page(f"{repo.repo_id} history", await ctx.run(build))


async def commit_page(request: Request, ctx: HubContext, p: Params) -> Response:
    """``GET /{repo}/commit/{oid}``: the commit and the files it added, changed or removed."""
    repo = await _repo(request, ctx, p)
    oid = validate_revision(p["rev"])

    def build() -> str:
        commit = ctx.storage.resolve(repo, oid)
        now = {e.path: e for e in ctx.storage.entries(commit.tree)}
        parent = ctx.storage.get_commit(repo, commit.parent) if commit.parent else None
        before = {e.path: e for e in ctx.storage.entries(parent.tree)} if parent else {}
        changes = []
        for path in sorted(set(now) | set(before)):
            old, new = before.get(path), now.get(path)
            if old is None:
                changes.append(("added", path))
            elif new is None:
                changes.append(("deleted", path))
            elif (old.sha256, old.lfs) != (new.sha256, new.lfs):
                changes.append(("modified", path))
        rows = "".join(f"<tr><td>{kind}</td><td>{_e(path)}</td></tr>" for kind, path in changes)
        message = f"<pre>{_e(commit.message)}</pre>" if commit.message.strip() else ""
        return (
            _tabs(repo, commit.oid)
            + f"<h2>{_e(commit.title)}</h2><p class=muted>{_e(commit.author)} · {_date(commit.created_at)} · "
            f"<code>{commit.oid}</code></p>{message}<table>{rows}</table>"
        )

    return _page(f"{repo.repo_id} commit", await ctx.run(build))


def error_page(exc: HubRequestError) -> Response:
    """A Hub error as a small HTML page (for requests from browsers)."""
    return _page(f"{exc.status}", f"<h1>{exc.status}</h1><p>{_e(exc.message)}</p>", status=exc.status)


WEB_ACTIONS = {"tree": tree_page, "blob": blob_page, "commits": commits_page, "commit": commit_page}


def match(segments: list[str], method: str) -> tuple[Any, Params] | None:
    """The web page for a path (segments already unquoted), or None."""
    if method not in ("GET", "HEAD"):
        return None
    if segments in (["models"], ["datasets"], ["spaces"]):
        return home, {"type": validate_repo_type(segments[0][:-1])}
    if segments == ["static", "hub.css"]:
        return stylesheet, {}
    repo_type, rest = "model", segments
    if segments and segments[0] in ("datasets", "spaces"):
        repo_type, rest = segments[0][:-1], segments[1:]
    if len(rest) == 2:
        return repo_page, {"type": repo_type, "ns": rest[0], "name": rest[1]}
    if len(rest) >= 4 and rest[2] in WEB_ACTIONS:
        return WEB_ACTIONS[rest[2]], {
            "type": repo_type,
            "ns": rest[0],
            "name": rest[1],
            "rev": rest[3],
            "path": "/".join(rest[4:]),
        }
    return None

