"""Which paths a repo's ``.gitattributes`` sends through Git LFS (``filter=lfs``), for preupload's answer.

Pattern rules follow gitattributes(5): a pattern without ``/`` matches the file name at any depth; one with ``/``
matches the path from the repo root; ``*`` and ``?`` stay within one path component and ``**`` spans components.
A later line overrides an earlier one (``-filter`` / ``!filter`` unset it).
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=4096)
def _regex(pattern: str) -> re.Pattern[str]:
    anchored = "/" in pattern.rstrip("/")
    body = pattern.lstrip("/")
    out = []
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif body.startswith("/**", i) and i + 3 == len(body):
            out.append("/.*")
            i += 3
        elif body.startswith("**", i):
            out.append(".*")
            i += 2
        elif body[i] == "*":
            out.append("[^/]*")
            i += 1
        elif body[i] == "?":
            out.append("[^/]")
            i += 1
        elif body[i] == "[":
            end = body.find("]", i + 1)
            if end < 0:
                out.append(re.escape(body[i]))
                i += 1
            else:
                out.append("[" + body[i + 1 : end].replace("!", "^", 1) + "]")
                i = end + 1
        else:
            out.append(re.escape(body[i]))
            i += 1
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(prefix + "".join(out) + r"\Z")


def parse_lfs_rules(text: str) -> list[tuple[str, bool]]:
    """``(pattern, is_lfs)`` for every line of a ``.gitattributes`` that sets or unsets the ``filter`` attribute."""
    rules: list[tuple[str, bool]] = []
    for line in text.splitlines():
        parts = line.strip().split()
        if not parts or parts[0].startswith("#"):
            continue
        pattern, attrs = parts[0], parts[1:]
        for attr in attrs:
            if attr == "filter=lfs":
                rules.append((pattern, True))
            elif attr in ("-filter", "!filter") or (attr.startswith("filter=") and attr != "filter=lfs"):
                rules.append((pattern, False))
    return rules


def is_lfs(path: str, rules: list[tuple[str, bool]]) -> bool:
    """Whether the last rule matching ``path`` sends it through LFS."""
    decision = False
    for pattern, lfs in rules:
        if _regex(pattern).match(path):
            decision = lfs
    return decision
