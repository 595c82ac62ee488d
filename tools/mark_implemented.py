"""Bring ``registry.yaml`` in line with what the installed plugins declare.

    python tools/mark_implemented.py gcd sac cfor ...   # these methods
    python tools/mark_implemented.py --all              # every method an installed plugin declares
    python tools/mark_implemented.py --all --check      # only report the differences (exit 1 if any)

The plugin's declaration is the source of truth for what it builds; the catalogue repeats it so that ``zoo list``
can show methods whose plugin is not installed. For each method this sets ``status: implemented``, ``plugin`` (the
entry-point name), ``variants`` (declared order), and ``title``, ``task`` and ``license`` as declared. The text is
edited in place, entry by entry, so comments, order and weight records survive; the result is validated with the
catalogue's own parser before it replaces the file (atomically), so a failed run leaves the file as it was.
"""
from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from zoo import catalogue, discovery, registry
from zoo.io import atomic_write_text

ROOT = Path(__file__).resolve().parent.parent
_KEYS = ("title", "task", "status", "plugin", "license", "variants")


def _scalar(value: str) -> str:
    """A YAML scalar for ``value`` on one line, quoted only when plain style would change its meaning."""
    dumped = yaml.safe_dump(value, default_flow_style=True, width=10_000, allow_unicode=True).strip()
    return dumped.removesuffix("\n...").removesuffix("...").strip()


def _entry_block(text: str, name: str) -> re.Match[str]:
    """The text span of ``name``'s entry: its ``- id:`` line and every more-indented line after it."""
    pattern = rf"^- id: [^\n]+\n(?:  [^\n]*\n)*?  name: {re.escape(name)}\n(?:(?:  |    )[^\n]*\n)*"
    match = re.search(pattern, text, re.M)
    if match is None:
        raise SystemExit(f"{name}: no entry in registry.yaml (add one by hand: id, name, source, spec)")
    return match


def _set_key(block: str, key: str, value: str, after: str) -> str:
    """Set top-level ``key`` of an entry block to ``value`` (dropping a folded continuation); insert after ``after``."""
    line = f"  {key}: {value}\n"
    pattern = rf"^  {key}:[^\n]*\n(?:    [^\n]*\n)*"
    if re.search(pattern, block, re.M):
        return re.sub(pattern, lambda _: line, block, count=1, flags=re.M)
    anchor = re.search(rf"^  {after}:[^\n]*\n(?:    [^\n]*\n)*", block, re.M)
    if anchor is None:
        return block + line
    return block[:anchor.end()] + line + block[anchor.end():]


def sync(text: str, names: Sequence[str]) -> str:
    """``text`` with the entries of ``names`` rewritten from the installed plugins' declarations."""
    found = discovery.discover(strict=False)
    for name in names:
        if name not in found.methods:
            raise SystemExit(f"{name}: no installed plugin declares it")
        spec, owner = found.methods[name], found.owners[name]
        match = _entry_block(text, name)
        block = match.group(0)
        block = re.sub(r"^  reason:[^\n]*\n(?:    [^\n]*\n)*", "", block, flags=re.M)
        block = _set_key(block, "title", _scalar(spec.title), "name")
        block = _set_key(block, "task", _scalar(spec.task), "source")
        block = _set_key(block, "status", "implemented", "task")
        block = _set_key(block, "plugin", owner, "status")
        if spec.license:
            block = _set_key(block, "license", _scalar(spec.license), "spec")
        block = _set_key(block, "variants", "[" + ", ".join(spec.variants) + "]", "license")
        text = text[:match.start()] + block + text[match.end():]
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, rewrite (or check) the named entries; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="methods to sync")
    parser.add_argument("--all", action="store_true", help="every method an installed plugin declares")
    parser.add_argument("--check", action="store_true", help="report differences only; exit 1 if any")
    args = parser.parse_args(argv)
    if args.check:
        problems = registry.mismatches()
        print("\n".join(problems) or "registry.yaml agrees with every installed declaration")
        return 1 if problems else 0
    names = sorted(discovery.discover(strict=False).methods) if args.all else list(args.names)
    if not names:
        parser.error("name methods, or pass --all")
    path = catalogue.default_path().resolve()
    text = sync(path.read_text(encoding="utf-8"), [n for n in names if n in catalogue.load()])
    catalogue.parse_catalogue(yaml.safe_load(text), origin=str(path))
    atomic_write_text(path, text)
    print(f"synced {len(names)} method(s) into {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
