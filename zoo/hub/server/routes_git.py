"""Read-only git over smart HTTP: ``git clone http://HUB/ns/name`` (``info/refs?service=git-upload-pack`` and
``POST git-upload-pack``), served by dulwich's upload-pack implementation.

Hub commits *are* git commits (:mod:`zoo.hub.server.gitobj`), so the clone shows the hub's commit ids; LFS files
appear as git-lfs pointer files, and ``git lfs pull`` fetches their content through the LFS batch API's
``download`` operation (:func:`zoo.hub.server.routes_upload.lfs_download_batch`). Pushing is not offered.

Each request builds an in-memory dulwich repository holding every object of the repo's commits (regular files'
content, LFS pointers, trees, commits): fine for the model repos this hub holds, whose large files are LFS.
"""

from __future__ import annotations

import gzip
import io
import zlib

from starlette.requests import Request
from starlette.responses import Response

from zoo.hub.server import gitobj
from zoo.hub.server.context import HubContext
from zoo.hub.server.errors import BadRequest, PayloadTooLarge
from zoo.hub.server.http import read_body
from zoo.hub.server.storage import Repo

Params = dict[str, str]
MAX_NEGOTIATION_BYTES = 16 * 1024 * 1024
SERVICE = "git-upload-pack"


def build_repo(ctx: HubContext, repo: Repo):
    """A dulwich ``MemoryRepo`` with every commit, tree and blob of ``repo``, and its branches and tags."""
    from dulwich.objects import Blob, Commit, ShaFile, Tree
    from dulwich.repo import MemoryRepo

    memory = MemoryRepo()
    store = memory.object_store
    conn = ctx.storage._conn()
    commits = conn.execute(
        "SELECT oid, parent, tree, title, message, author, created_at FROM commits WHERE repo=?", (repo.id,)
    ).fetchall()
    seen_trees: set[str] = set()
    seen_blobs: set[str] = set()
    for oid, parent, tree, title, message, author, created in commits:
        if tree not in seen_trees:
            seen_trees.add(tree)
            entries = ctx.storage.entries(tree)
            ids = gitobj.iter_blob_ids((e.path, e.sha256, e.size, e.git_sha1, e.lfs) for e in entries)
            for entry in entries:
                blob_id = ids[entry.path]
                if blob_id in seen_blobs:
                    continue
                seen_blobs.add(blob_id)
                store.add_object(Blob.from_string(entry.pointer if entry.lfs else ctx.read_entry(entry)))
            for tree_object in gitobj.build_trees(ids):
                store.add_object(ShaFile.from_raw_string(Tree.type_num, tree_object.raw))
        raw = gitobj.commit_raw(tree, parent, author, int(created), title, message)
        store.add_object(ShaFile.from_raw_string(Commit.type_num, raw))
    for kind, name, target in conn.execute("SELECT kind, name, target FROM refs WHERE repo=?", (repo.id,)):
        prefix = b"refs/heads/" if kind == "branch" else b"refs/tags/"
        memory.refs[prefix + name.encode()] = target.encode()
    memory.refs.set_symbolic_ref(b"HEAD", b"refs/heads/main")
    return memory


def _run_upload_pack(ctx: HubContext, repo: Repo, body: bytes, advertise: bool) -> bytes:
    """Run dulwich's stateless upload-pack over ``body``; returns what it wrote."""
    from dulwich.protocol import ReceivableProtocol
    from dulwich.server import DictBackend, UploadPackHandler

    backend = DictBackend({b"/": build_repo(ctx, repo)})
    out = io.BytesIO()

    def write(data: bytes) -> int:
        out.write(data)
        return len(data)

    proto = ReceivableProtocol(io.BytesIO(body).read, write)
    handler = UploadPackHandler(backend, [b"/"], proto, stateless_rpc=True, advertise_refs=advertise)
    if advertise:
        proto.write_pkt_line(f"# service={SERVICE}\n".encode())
        proto.write_pkt_line(None)
    handler.handle()
    return out.getvalue()


async def info_refs(request: Request, ctx: HubContext, p: Params) -> Response:
    """``GET /{repo}[.git]/info/refs?service=git-upload-pack``: the ref advertisement (smart HTTP only)."""
    if request.query_params.get("service") != SERVICE:
        raise BadRequest("this hub serves git over smart HTTP, read-only: use git-upload-pack (git clone/fetch)")
    repo = await ctx.readable_repo(request, p["type"], p["ns"], p["name"])
    data = await ctx.run(_run_upload_pack, ctx, repo, b"", True)
    return Response(
        data,
        media_type=f"application/x-{SERVICE}-advertisement",
        headers={"Cache-Control": "no-cache"},
    )


async def upload_pack(request: Request, ctx: HubContext, p: Params) -> Response:
    """``POST /{repo}[.git]/git-upload-pack``: negotiation, then the packfile."""
    repo = await ctx.readable_repo(request, p["type"], p["ns"], p["name"])
    if request.headers.get("content-type") != f"application/x-{SERVICE}-request":
        raise BadRequest(f"expected Content-Type application/x-{SERVICE}-request")
    body = await read_body(request, MAX_NEGOTIATION_BYTES)
    if request.headers.get("content-encoding", "").lower() == "gzip":
        try:
            body = gzip.GzipFile(fileobj=io.BytesIO(body)).read(MAX_NEGOTIATION_BYTES + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise BadRequest("request body is not valid gzip") from exc
        if len(body) > MAX_NEGOTIATION_BYTES:
            raise PayloadTooLarge("git negotiation request too large")
    data = await ctx.run(_run_upload_pack, ctx, repo, body, False)
    return Response(data, media_type=f"application/x-{SERVICE}-result", headers={"Cache-Control": "no-cache"})
