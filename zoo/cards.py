"""Method cards: the README of a method's plugin, in one shape that the zoo checks.

Every method card has these sections (level-2 headings, matched case-insensitively by their first words):

- **Paper**: citation, link, licence.
- **What is implemented**: each component of the method -> the file that implements it.
- **Deviations**: each deviation from the paper as *paper says / here / why* (and paper-vs-public-code choices).
- **Measured here**: a table of figure, value, the command that produced it, and the paper's value where comparable.
- **Mutation score**: mutants tried / killed on the method's defining modules, and the command.

``zoo info NAME --card`` prints the card; the conformance kit checks the sections; ``zoo.save`` copies the
deviations into every weights model card; ``MODEL_ZOO.md`` links each card.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

#: Required sections, in order: (heading prefix, what it must hold).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("Paper", "citation, link, licence"),
    ("What is implemented", "each component -> file"),
    ("Deviations", "paper says / here / why"),
    ("Measured here", "figure, value, command, paper's value"),
    ("Mutation score", "mutants tried / killed on the defining modules, with the command"),
)


def card_path(method: str) -> Path | None:
    """Where the method card of an installed method lives (``None`` if its plugin has no card file)."""
    from zoo import discovery

    found = discovery.plugins()
    owner = found.owners.get(method)
    if owner is None:
        return None
    obj = found.manager.get_plugin(owner)
    locate = getattr(obj, "card_path", None)
    if callable(locate):
        path = locate(method)
    else:  # a hand-written plugin module: README.md beside it
        module = sys.modules.get(getattr(obj, "__name__", ""))
        path = Path(module.__file__).with_name("README.md") if module and getattr(module, "__file__", None) else None
    return path if path is not None and path.is_file() else None


def headings(text: str) -> list[str]:
    """The level-2 headings of a Markdown text."""
    return [m.group(1).strip() for m in re.finditer(r"^##\s+(.+)$", text, flags=re.M)]


def missing_sections(text: str) -> list[str]:
    """The required sections a card lacks (by heading prefix, case-insensitive)."""
    found = [h.lower() for h in headings(text)]
    return [name for name, _ in SECTIONS if not any(h.startswith(name.lower()) for h in found)]


def section(text: str, keyword: str) -> str:
    """The body of the first Markdown section whose heading contains ``keyword`` (case-insensitive)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        heading = re.match(r"^(#+)\s", line)
        if heading and keyword.lower() in line.lower():
            level = len(heading.group(1))
            body: list[str] = []
            for nxt in lines[i + 1 :]:
                other = re.match(r"^(#+)\s", nxt)
                if other and len(other.group(1)) <= level:
                    break
                body.append(nxt)
            return "\n".join(body).strip()
    return ""


def read_card(method: str) -> str:
    """The text of ``method``'s card (empty when there is none)."""
    path = card_path(method)
    return path.read_text(encoding="utf-8") if path else ""
