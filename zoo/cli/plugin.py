"""``zoo plugin``: write a new plugin distribution, check an installed method, list method-card status.

::

    zoo plugin new demo-method --dir ~/src      # a separate distribution: pip install -e ~/src/demo-method
    zoo plugin check demo-method                # the conformance kit (what the plugin's own tests run)
    zoo plugin cards                            # which installed methods' cards lack sections
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``plugin`` command group."""
    p = subparsers.add_parser("plugin", help="write, check and inspect method plugins")
    sub = p.add_subparsers(dest="plugin_command", metavar="ACTION")

    n = sub.add_parser("new", help="write a new plugin distribution (declaration, config, model, card, tests)")
    n.add_argument("name", help="the method name, lower-case words joined by hyphens (e.g. demo-method)")
    n.add_argument("--dir", default=".", help="parent folder of the new distribution (default: .)")
    n.set_defaults(handler=_new)

    c = sub.add_parser("check", help="run the conformance kit on an installed method")
    c.add_argument("name", help="method name")
    c.add_argument("--variant", default="tiny")
    c.set_defaults(handler=_check)

    k = sub.add_parser("cards", help="list the method card of every installed method and the sections it lacks")
    k.add_argument("--strict", action="store_true", help="exit 1 when any card lacks a section")
    k.set_defaults(handler=_cards)
    p.set_defaults(handler=lambda args: _usage(p))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _new(args: argparse.Namespace) -> int:
    from zoo import scaffold

    folder = scaffold.write(args.name, Path(args.dir))
    package = scaffold.names(args.name)["__PKG__"]
    print(f"wrote {folder}: pyproject.toml (entry point {args.name} = \"{package}:plugin\"), {package}/ "
          "(declaration, config, model, data, train, infer, README.md method card), tests/")
    print("next:")
    print(f"  pip install -e {folder}")
    print(f"  python -m pytest {folder / 'tests'}")
    print(f"  zoo train {args.name}-tiny --data digits --out runs/{args.name}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from zoo.testing import check_method

    try:
        report = check_method(args.name, args.variant)
    except AssertionError as exc:
        print(f"zoo: conformance failed: {exc}", file=sys.stderr)
        return 1
    for check in report.checks:
        print(f"  ok    {check}")
    for note in report.notes:
        print(f"  note  {note}")
    print(f"{args.name}: {len(report.checks)} checks passed")
    return 0


def _cards(args: argparse.Namespace) -> int:
    from zoo import cards, discovery
    from zoo.testing.conformance import CARD_PENDING

    found = discovery.plugins()
    root = Path.cwd()
    incomplete = 0
    for method in sorted(found.methods):
        path = cards.card_path(method)
        missing = cards.missing_sections(path.read_text(encoding="utf-8")) if path else ["(no card)"]
        incomplete += bool(missing)
        shown = str(path.relative_to(root)) if path and path.is_relative_to(root) else str(path or "-")
        state = "ok" if not missing else ("pending: " if method in CARD_PENDING else "FAIL: ") + ", ".join(missing)
        print(f"{method:<20} {found.owners[method]:<16} {shown:<40} {state}")
    print(f"{len(found.methods) - incomplete} of {len(found.methods)} cards have the five sections")
    return 1 if args.strict and incomplete else 0
