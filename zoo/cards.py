"""Method cards: the README of a method's plugin, in one shape that the zoo checks.

Every method card has these sections (level-2 headings, matched case-insensitively by their first words):

- **Paper**: citation, link, licence.
- **What is implemented**: each component of the method -> the file that implements it.
- **Deviations**: each deviation from the paper as *paper says / here / why* (and paper-vs-public-code choices).
- **Measured here**: a table of figure, value, the command that produced it, and the paper's value where comparable.
- **Mutation score**: mutants tried / killed on the method's defining modules, and the command.

The **Measured here** section holds a table whose header names the columns *figure*, *value*, *command* and
*paper* (in that order; other columns may follow). The row whose figure cell carries ``(headline)`` is the
method's headline figure (without a marked row, the first row is); ``MODEL_ZOO.md`` shows it beside the paper's
value. See ``docs/plugins.md`` ("The method card").

``zoo info NAME --card`` prints the card; the conformance kit checks the sections; ``zoo.save`` copies the
deviations into every weights model card; ``MODEL_ZOO.md`` links each card.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
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


def card_text(name: str) -> str:
    """The method card of ``name`` (a method or ``method-variant``) for ``zoo info NAME --card``.

    Raises:
        UnknownModelError, NotImplementedMethodError, PluginError: as :func:`zoo.registry.resolve` does.
        ZooError: the method's plugin has no card file (the message says where it was looked for).
    """
    from zoo import registry
    from zoo.errors import ZooError

    method = registry.resolve(name).spec.name
    path = card_path(method)
    if path is None:
        raise ZooError(f"method {method!r} has no method card: its plugin should ship a README.md in the package "
                       "that declares it (see docs/plugins.md, 'The method card')")
    return path.read_text(encoding="utf-8")


def read_card(method: str) -> str:
    """The text of ``method``'s card (empty when there is none)."""
    path = card_path(method)
    return path.read_text(encoding="utf-8") if path else ""


#: The marker of the headline row in the Measured here table.
HEADLINE_MARK = "(headline)"
#: The leading columns of the Measured here table (matched by the first word of each header cell).
MEASURED_COLUMNS: tuple[str, ...] = ("figure", "value", "command", "paper")


@dataclass(frozen=True)
class Headline:
    """The headline row of a card's Measured here table: what was measured, its value here and the paper's."""

    figure: str
    value: str
    command: str
    paper: str


def _cells(line: str) -> list[str]:
    """The cells of one Markdown table row (escaped pipes kept inside their cell)."""
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [c.replace("\\|", "|").strip() for c in re.split(r"(?<!\\)\|", body)]


def tables(text: str) -> list[list[list[str]]]:
    """The Markdown tables of ``text``: each a list of rows (header first, separator row dropped)."""
    found: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in text.splitlines() + [""]:
        if line.strip().startswith("|"):
            row = _cells(line)
            if not all(re.fullmatch(r":?-{3,}:?", c) for c in row if c) or not row:
                current.append(row)
            continue
        if current:
            found.append(current)
            current = []
    return found


def headline(text: str) -> Headline | None:
    """The headline figure of a card (``None`` when its Measured here section has no conforming table)."""
    body = section(text, "Measured here")
    for table in tables(body):
        header = [h.lower() for h in table[0]]
        if len(header) < len(MEASURED_COLUMNS) or not all(
                h.startswith(w) for h, w in zip(header, MEASURED_COLUMNS)):
            continue
        rows = [r for r in table[1:] if len(r) >= len(MEASURED_COLUMNS)]
        if not rows:
            return None
        chosen = next((r for r in rows if HEADLINE_MARK in r[0].lower()), rows[0])
        figure = re.sub(re.escape(HEADLINE_MARK), "", chosen[0], flags=re.I).strip()
        return Headline(figure=figure, value=chosen[1], command=chosen[2], paper=chosen[3])
    return None
