"""``zoo hub serve``: a self-hosted, Hugging Face Hub-compatible server (Starlette + uvicorn, SQLite + blobs).

Modules, one job each:
- :mod:`config` (``HubConfig``), :mod:`validation` (repo ids, revisions, paths), :mod:`errors` (Hub-format errors),
  :mod:`accounts` (users, organisations, scoped tokens), :mod:`auth` (bearer tokens, signed links);
- :mod:`blobs` (content-addressed files), :mod:`storage` (repos, commits, trees, refs in SQLite WAL),
  :mod:`gitobj` (git object ids: hub commits are git commits), :mod:`gc` (garbage collection),
  :mod:`xet` (the Xet protocol: hashing, xorbs, shards, store, CAS routes);
- :mod:`app` (routing, error rendering, request log), :mod:`context` (shared state, access checks), the routes
  :mod:`routes_repos`, :mod:`routes_upload`, :mod:`routes_resolve`, :mod:`routes_git` (git clone), :mod:`web`
  (pages for people), and helpers :mod:`http`, :mod:`responses`, :mod:`cards`, :mod:`gitattributes`;
- :mod:`runner` (uvicorn, signals), :mod:`importer` (``zoo hub import``).

Importing this package is cheap; Starlette and uvicorn load only when an app is built.
"""

from __future__ import annotations

from typing import Any

__all__ = ["HubConfig", "create_app", "serve", "serve_in_thread"]


def __getattr__(name: str) -> Any:
    if name == "HubConfig":
        from zoo.hub.server.config import HubConfig

        return HubConfig
    if name == "create_app":
        from zoo.hub.server.app import create_app

        return create_app
    if name in ("serve", "serve_in_thread"):
        from zoo.hub.server import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'zoo.hub.server' has no attribute {name!r}")
