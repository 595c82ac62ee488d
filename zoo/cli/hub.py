"""``zoo hub serve`` (a self-hosted Hugging Face-compatible hub), ``zoo hub import`` (seed a repo from a folder),
``zoo hub users|orgs|tokens`` (accounts and scoped tokens) and ``zoo hub gc`` (free unreferenced content)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``hub`` command and its sub-commands."""
    hub = subparsers.add_parser(
        "hub",
        help="run or seed a self-hosted Hugging Face-compatible hub",
        description="A self-hosted hub speaking the Hugging Face Hub protocol.",
    )
    hub_sub = hub.add_subparsers(dest="hub_command", metavar="SUBCOMMAND")
    hub.set_defaults(handler=lambda args: (hub.print_help(), 0)[1])

    serve = hub_sub.add_parser(
        "serve", help="serve a hub (huggingface_hub clients: HF_ENDPOINT=http://HOST:PORT)"
    )
    serve.add_argument("--root", required=True, type=Path, help="storage folder (created if missing)")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    serve.add_argument("--port", type=int, default=8090, help="TCP port (0 picks a free one; default 8090)")
    serve.add_argument(
        "--token-file",
        type=Path,
        default=None,
        help="administrator tokens, one per line ('token' or 'name:token'); also read: $ZOO_HUB_TOKENS "
        "(user tokens with scopes: zoo hub tokens create)",
    )
    serve.add_argument("--private-by-default", action="store_true", help="new repos are private unless asked")
    serve.add_argument(
        "--read-requires-token", action="store_true", help="every read needs a valid token too"
    )
    serve.add_argument(
        "--lfs-threshold-mb",
        type=float,
        default=10.0,
        help="files this big or bigger go through Git LFS (default 10 MB)",
    )
    serve.add_argument(
        "--max-file-gb", type=float, default=50.0, help="largest accepted file (default 50 GB)"
    )
    serve.add_argument(
        "--max-commit-mb",
        type=float,
        default=16384.0,
        help="largest commit request with inline files, streamed (default 16 GB)",
    )
    serve.add_argument(
        "--public-url",
        default=None,
        help="URL clients use to reach the server when behind a proxy (used in LFS upload links)",
    )
    serve.set_defaults(handler=_serve)

    imp = hub_sub.add_parser("import", help="commit a local folder into a repo of a hub root (or --all-shipped)")
    imp.add_argument("folder", type=Path, nargs="?", help="folder whose files become the repo's content")
    imp.add_argument("repo_id", nargs="?", help="target repo, 'org/name' (created if missing)")
    imp.add_argument(
        "--all-shipped",
        action="store_true",
        help="seed the hub with every weight zoo ships (zoo/<name> repos at the revisions registry.yaml records)",
    )
    imp.add_argument("--root", required=True, type=Path, help="the hub's storage folder")
    imp.add_argument("--repo-type", default="model", choices=["model", "dataset", "space"])
    imp.add_argument("--branch", default="main")
    imp.add_argument("--private", action="store_true", help="create the repo private")
    imp.add_argument("--message", default=None, help="commit title")
    imp.add_argument(
        "--date",
        default=None,
        help="commit date (ISO 8601, e.g. 2025-01-01T00:00:00Z, or seconds since 1970): with --author and "
        "--message, the same files always give the same commit id (a new repo's initial commit gets the same date)",
    )
    imp.add_argument("--author", default="zoo-import", help="commit author name (default zoo-import)")
    imp.set_defaults(handler=_import)
    _register_accounts(hub_sub)

    gc = hub_sub.add_parser("gc", help="free blobs and xorbs no commit references any more")
    gc.add_argument("--root", required=True, type=Path, help="the hub's storage folder")
    gc.add_argument(
        "--grace-hours",
        type=float,
        default=1.0,
        help="keep anything uploaded or announced more recently than this (default 1 hour)",
    )
    gc.add_argument("--dry-run", action="store_true", help="report what would be freed, free nothing")
    gc.set_defaults(handler=_gc)


def _register_accounts(hub_sub: argparse._SubParsersAction) -> None:
    """``zoo hub users|orgs|tokens ...``: administration of accounts, directly on a hub root."""
    users = hub_sub.add_parser("users", help="add, list or remove users")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = users_sub.add_parser("add", help="create a user (owner of the namespace of its name)")
    add.add_argument("name")
    add.add_argument("--admin", action="store_true", help="an administrator: writes and reads every repo")
    add.set_defaults(handler=lambda a: _accounts(a, lambda acc: acc.add_user(a.name, admin=a.admin)))
    ls = users_sub.add_parser("ls", help="list users")
    ls.set_defaults(handler=_list_users)
    rm = users_sub.add_parser("rm", help="remove a user and its tokens (its repos stay)")
    rm.add_argument("name")
    rm.set_defaults(handler=lambda a: _accounts(a, lambda acc: acc.remove_user(a.name)))

    orgs = hub_sub.add_parser("orgs", help="add, list or remove organisations and their members")
    orgs_sub = orgs.add_subparsers(dest="orgs_command", metavar="ACTION", required=True)
    add = orgs_sub.add_parser("add", help="create an organisation")
    add.add_argument("name")
    add.set_defaults(handler=lambda a: _accounts(a, lambda acc: acc.add_org(a.name)))
    ls = orgs_sub.add_parser("ls", help="list organisations and members")
    ls.set_defaults(handler=_list_orgs)
    rm = orgs_sub.add_parser("rm", help="remove an organisation (its repos stay)")
    rm.add_argument("name")
    rm.set_defaults(handler=lambda a: _accounts(a, lambda acc: acc.remove_org(a.name)))
    member = orgs_sub.add_parser("add-member", help="add a user to an organisation (or change its role)")
    member.add_argument("org")
    member.add_argument("user")
    member.add_argument("--role", choices=["read", "write"], default="write")
    member.set_defaults(handler=lambda a: _accounts(a, lambda acc: acc.set_member(a.org, a.user, a.role)))
    unmember = orgs_sub.add_parser("rm-member", help="remove a user from an organisation")
    unmember.add_argument("org")
    unmember.add_argument("user")
    unmember.set_defaults(handler=lambda a: _accounts(a, lambda acc: acc.remove_member(a.org, a.user)))

    tokens = hub_sub.add_parser("tokens", help="create, list or revoke access tokens")
    tokens_sub = tokens.add_subparsers(dest="tokens_command", metavar="ACTION", required=True)
    create = tokens_sub.add_parser("create", help="create a token for a user and print it (shown once)")
    create.add_argument("user")
    create.add_argument("--scope", choices=["read", "write"], default="read")
    create.add_argument("--name", default="", help="a label shown by 'tokens ls'")
    create.add_argument("--namespace", action="append", default=None, help="limit to this namespace (repeatable)")
    create.add_argument("--repo", action="append", default=None, help="limit to this repo, 'ns/name' (repeatable)")
    create.add_argument("--expires-days", type=float, default=None, help="expire after this many days")
    create.set_defaults(handler=_create_token)
    ls = tokens_sub.add_parser("ls", help="list tokens (never their value)")
    ls.add_argument("user", nargs="?", default=None)
    ls.set_defaults(handler=_list_tokens)
    revoke = tokens_sub.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("token_id")
    revoke.set_defaults(handler=lambda a: _accounts(a, lambda acc: acc.revoke_token(a.token_id)))
    for parser in (users_sub, orgs_sub, tokens_sub):
        for sub in parser.choices.values():
            sub.add_argument("--root", required=True, type=Path, help="the hub's storage folder")


def _serve(args: argparse.Namespace) -> int:
    """Run the server until SIGTERM/SIGINT."""
    import errno
    import logging
    import os

    from zoo import constants
    from zoo.errors import ConfigError, HubError
    from zoo.hub.server.auth import load_tokens
    from zoo.hub.server.config import GiB, HubConfig, MiB
    from zoo.hub.server.runner import configure_logging, serve

    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, got {args.port}")
    tokens = load_tokens(args.token_file, constants.hub_tokens_env())
    config = HubConfig(
        root=args.root,
        tokens=tokens,
        private_by_default=args.private_by_default,
        read_requires_token=args.read_requires_token,
        lfs_threshold=max(1, int(args.lfs_threshold_mb * MiB)),
        max_file_bytes=int(args.max_file_gb * GiB),
        max_commit_bytes=int(args.max_commit_mb * MiB),
        public_url=args.public_url,
    )
    configure_logging()
    log = logging.getLogger("zoo.hub.server")
    if not tokens:
        log.info("no administrator tokens (--token-file, ZOO_HUB_TOKENS): writes need user tokens (zoo hub tokens)")
    if args.token_file is not None and args.token_file.stat().st_mode & 0o077:
        log.warning("token file %s is readable by other users; consider chmod 600", args.token_file)
    try:
        config.root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the hub root {config.root}: {exc.strerror or exc}") from exc
    if not os.access(config.root, os.W_OK):
        raise ConfigError(f"the hub root {config.root} is not writable by this user")

    def ready(endpoint: str) -> None:
        log.info(
            "serving %s on %s (%d administrator token(s)); clients: HF_ENDPOINT=%s",
            config.root,
            endpoint,
            len(tokens),
            endpoint,
        )
        print(f"zoo hub: listening on {endpoint}", flush=True)

    try:
        serve(config, args.host, args.port, on_ready=ready)
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            raise HubError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from exc
        raise
    log.info("shut down cleanly")
    return 0


def _import(args: argparse.Namespace) -> int:
    """Seed a repo from a folder, or the hub with every shipped weight (``--all-shipped``)."""
    from zoo.errors import ConfigError
    from zoo.hub.server.importer import import_folder

    if args.all_shipped:
        if args.folder or args.repo_id:
            raise ConfigError("--all-shipped takes no FOLDER or REPO_ID")
        from zoo.weights.shipped import seed_hub

        seeded = seed_hub(args.root)
        for item in seeded:
            print(f"{item.action:<8} {item.repo}@{item.commit}")
        print(f"{len(seeded)} shipped weight(s) on the hub at {args.root}")
        return 0
    if args.folder is None or args.repo_id is None:
        raise ConfigError("zoo hub import needs FOLDER and REPO_ID (or --all-shipped)")

    result = import_folder(
        args.root,
        args.folder,
        args.repo_id,
        repo_type=args.repo_type,
        branch=args.branch,
        private=args.private,
        message=args.message,
        author=args.author,
        date=_parse_date(args.date) if args.date else None,
    )
    verb = "created" if result.created else "updated"
    print(
        f"{verb} {result.repo_id}: {result.files} file(s), {result.bytes} bytes, commit {result.commit.oid}",
        file=sys.stdout,
    )
    return 0


def _parse_date(text: str) -> int:
    """Seconds since 1970 from ``--date`` (ISO 8601; a date without zone is UTC)."""
    from datetime import datetime, timezone

    from zoo.errors import ConfigError

    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"invalid --date {text!r}: use ISO 8601 (2025-01-01T00:00:00Z) or seconds") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def _open_accounts(root: Path):
    from zoo.hub.server.accounts import Accounts
    from zoo.hub.server.storage import Storage

    storage = Storage(root)
    return storage, Accounts(storage)


def _accounts(args: argparse.Namespace, action) -> int:
    """Run one account action on the root's database."""
    storage, accounts = _open_accounts(args.root)
    try:
        action(accounts)
    finally:
        storage.close()
    return 0


def _list_users(args: argparse.Namespace) -> int:
    storage, accounts = _open_accounts(args.root)
    try:
        for name, admin, orgs in accounts.list_users():
            print(f"{name}\t{'admin' if admin else 'user'}\t{','.join(orgs) or '-'}")
    finally:
        storage.close()
    return 0


def _list_orgs(args: argparse.Namespace) -> int:
    storage, accounts = _open_accounts(args.root)
    try:
        for org, members in accounts.list_orgs():
            print(f"{org}\t{', '.join(f'{user}({role})' for user, role in members) or '-'}")
    finally:
        storage.close()
    return 0


def _create_token(args: argparse.Namespace) -> int:
    import time

    storage, accounts = _open_accounts(args.root)
    try:
        token_id, token = accounts.create_token(
            args.user,
            scope=args.scope,
            name=args.name,
            namespaces=args.namespace,
            repos=args.repo,
            expires_at=time.time() + args.expires_days * 86400 if args.expires_days else None,
        )
    finally:
        storage.close()
    print(f"token id {token_id} ({args.scope}) for {args.user}; the token, shown only now:", file=sys.stderr)
    print(token)
    return 0


def _list_tokens(args: argparse.Namespace) -> int:
    import time

    storage, accounts = _open_accounts(args.root)
    try:
        for t in accounts.list_tokens(args.user):
            limits = ",".join((t.namespaces or []) + (t.repos or [])) or "-"
            expiry = "never" if t.expires_at is None else time.strftime("%Y-%m-%d %H:%M", time.gmtime(t.expires_at))
            print(f"{t.id}\t{t.user}\t{t.scope}\t{t.name}\tlimits={limits}\texpires={expiry}")
    finally:
        storage.close()
    return 0


def _gc(args: argparse.Namespace) -> int:
    from zoo.hub.server.gc import collect

    report = collect(args.root, grace_seconds=args.grace_hours * 3600, dry_run=args.dry_run)
    verb = "would free" if args.dry_run else "freed"
    print(
        f"{verb} {report.blobs} blob(s), {report.xorbs} xorb(s), {report.bytes_freed} bytes; removed "
        f"{report.commits} unreachable commit(s), {report.trees} tree(s), {report.orphan_files} orphan file(s); "
        f"kept {report.kept_recent} recent upload(s)"
    )
    return 0
