"""``zoo demo``: the end-to-end demonstration (see :mod:`zoo.demo`)."""
from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``demo`` command."""
    p = subparsers.add_parser("demo", help="train, push, pull and run one method per family end to end, offline")
    p.add_argument("--out", help="report folder (default ./zoo-demo or ZOO_DEMO_DIR)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="every method that has a demo recipe")
    which.add_argument("--family", help="every method of one family (see --list)")
    which.add_argument("--methods", help="comma-separated methods")
    p.add_argument("--list", action="store_true", help="list the demo's families and methods, then exit")
    p.add_argument("--fresh", action="store_true", help="ignore what earlier runs left and train again")
    p.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from zoo.demo import list_recipes, run_demo

    if args.list:
        for family, method, default in list_recipes():
            print(f"{family:<22} {method:<16} {'(default)' if default else ''}".rstrip())
        return 0
    methods = [m.strip() for m in args.methods.split(",")] if args.methods else None
    run_demo(Path(args.out) if args.out else None, methods, fresh=args.fresh, family=args.family,
             everything=args.all)
    return 0
