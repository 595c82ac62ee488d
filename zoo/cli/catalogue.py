"""``zoo list`` and ``zoo info``: read the catalogue and the plugin declarations (never imports torch)."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``list`` and ``info`` commands."""
    p = subparsers.add_parser("list", help="list catalogue entries and installed methods")
    p.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern on the method name (default *)")
    p.add_argument("--task", help="substring of the task family, e.g. federated")
    p.add_argument("--status", choices=["implemented", "planned", "not-applicable"])
    p.add_argument("--source", help="substring of the source, e.g. 'seed 002' or 'blog'")
    p.add_argument("--capability", action="append", default=[], help="required capability (repeatable)")
    p.add_argument("--variants", action="store_true", help="list method-variant names of implemented methods")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=_list)

    q = subparsers.add_parser("info", help="show the full record of a method")
    q.add_argument("name")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.add_argument("--card", action="store_true", help="print the method card (the plugin's README.md)")
    q.set_defaults(handler=_info)


def _list(args: argparse.Namespace) -> int:
    from zoo import discovery, registry

    names = registry.list_models(args.pattern, task=args.task, status=args.status, source=args.source,
                                 capability=args.capability or None, include_variants=args.variants)
    for line in discovery.warnings_of(discovery.plugins()):  # (strict mode: list_models raised instead)
        print(f"zoo: warning: {line}", file=sys.stderr)
    if args.variants:  # buildable names only: a planned method has no variant to build
        unbuildable = {i.name for i in registry.all_infos() if i.spec is None}
        names = [n for n in names if n not in unbuildable]
        if not names:
            print("zoo: no implemented method matches; --variants lists only buildable names", file=sys.stderr)
        if args.json:
            json.dump(names, sys.stdout, indent=2)
            print()
        else:
            print("\n".join(names))
        return 0
    infos = {i.name: i for i in registry.all_infos()}
    rows = [infos[n] for n in names]
    if args.json:
        json.dump([r.to_dict() for r in rows], sys.stdout, indent=2)
        print()
        return 0
    cells = [(r.name, r.status, r.task, r.entry.source.split(" (")[0] if r.entry else f"plugin {r.plugin} ({r.dist})",
              ", ".join(r.variants)) for r in rows]
    header = ("name", "status", "task", "source", "variants")
    if not sys.stdout.isatty():  # piped or redirected: plain columns, one line per entry, nothing wrapped
        from zoo.cli._format import text_table

        print(f"zoo catalogue: {len(rows)} entries")
        print(text_table(header, cells))
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"zoo catalogue: {len(rows)} entries", show_lines=False)
        for column in header:  # a name is never split; long titles and tasks fold at word boundaries
            table.add_column(column, no_wrap=column == "name", overflow="ellipsis" if column == "name" else "fold")
        styles = {"implemented": "green", "planned": "yellow", "not-applicable": "dim"}
        for name, status, task, source, variants in cells:
            style = styles.get(status.split(" ")[0], "")
            table.add_row(name, f"[{style}]{status}[/]" if style else status, task, source, variants)
        Console().print(table)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    print("  ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    return 0


def _info(args: argparse.Namespace) -> int:
    from zoo import registry

    if args.card:
        from zoo.cards import card_text

        print(card_text(args.name), end="")
        return 0
    record = registry.info(args.name).to_dict()
    if args.json:
        json.dump(record, sys.stdout, indent=2)
        print()
        return 0
    width = max(len(k) for k in record)
    for key, value in record.items():
        if value in (None, "", [], {}):
            continue
        if isinstance(value, list):
            value = "\n".join(" " * (width + 2) + (json.dumps(v) if isinstance(v, dict) else str(v))
                              for v in value).lstrip()
        print(f"{key:<{width}}  {value}")
    return 0
