"""``MODEL_ZOO.md``: the catalogue (``registry.yaml``) and the installed plugins' declarations, as Markdown.

:func:`render` is deterministic (no dates, no machine names): the same catalogue and plugins give the same
bytes, so a test can compare the committed file with a fresh rendering and fail when it is stale. Regenerate
with ``zoo docs model-zoo`` (``--check`` only compares).

Only catalogued methods are listed; a third-party plugin's methods that are not in ``registry.yaml`` appear in
``zoo list`` but not here. Metrics are the ones recorded with each released weight (measured here, with the
command that produced them). Each implemented method links its method card and shows the card's headline figure
(:func:`zoo.cards.headline`: the row of the card's *Measured here* table marked ``(headline)``) beside the
paper's value that the card quotes.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from zoo import cards
from zoo.registry import ModelInfo
from zoo.specs import InputSpec, WeightSpec

FILENAME = "MODEL_ZOO.md"
REGENERATE = "zoo docs model-zoo"

# (section key, heading), in the order the sections are written; see section_of for the keys.
_SECTIONS: tuple[tuple[str, str], ...] = (
    ("blog", "AIOZ research blog (seeds 000 and 001)"),
    ("seed 002", "Seed 002: PRCV 2021 proceedings, part IV"),
    ("seed 003", "Seed 003: paper list"),
    ("baseline", "Baselines shipped by plugins"),
    ("other", "Other catalogue entries"),
)
_STATUS_ORDER = ("implemented", "planned", "not-applicable")


def section_of(source: str) -> str:
    """The section key of a catalogue ``source``: blog, seed 002, seed 003, baseline or other."""
    text = source.lower()
    if "blog" in text:
        return "blog"
    for key in ("seed 002", "seed 003", "baseline"):
        if key in text:
            return key
    return "other"


def _natural_key(text: str) -> tuple[object, ...]:
    """``P2`` before ``P10``: digits compare as numbers."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


def _cell(text: object) -> str:
    """One Markdown table cell: no newlines, pipes escaped, runs of spaces collapsed."""
    value = " ".join(str(text).split())
    return value.replace("|", "\\|") if value else "-"


def _link(url: str, label: str | None = None) -> str:
    if url.startswith(("http://", "https://")):
        return f"[{label or 'link'}]({url})"
    return url


def human_size(size: int) -> str:
    """Bytes as ``512 B``, ``97.6 KiB``, ``1.2 MiB``..."""
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def _status(info: ModelInfo) -> str:
    reason = info.entry.reason if info.entry else ""
    return f"{info.status}: {reason}" if reason else info.status


def _base_status(info: ModelInfo) -> str:
    return info.status.split(" ")[0]


def _paper(info: ModelInfo) -> str:
    paper = (info.spec.paper if info.spec else "") or (info.entry.paper if info.entry else "")
    return _link(paper, "paper") if paper else ""


def _license(info: ModelInfo) -> str:
    return (info.spec.license if info.spec else "") or (info.entry.license if info.entry else "")


def _metrics(weight: WeightSpec) -> str:
    parts = []
    for dataset in sorted(weight.metrics):
        values = weight.metrics[dataset]
        shown = ", ".join(f"{name} {_number(values[name])}" for name in sorted(values))
        parts.append(f"{dataset}: {shown}")
    return "; ".join(parts)


def _number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _input(spec: InputSpec) -> str:
    """One declared input as name, dimensions and dtype."""
    return f"`{spec.name}` ({', '.join(map(str, spec.shape))}) {spec.dtype}"


def _weights(infos: Iterable[ModelInfo]) -> list[tuple[ModelInfo, WeightSpec]]:
    return [(info, w) for info in infos if info.entry for w in info.entry.weights]


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _summary(groups: dict[str, list[ModelInfo]], weights: int) -> list[str]:
    statuses = sorted({_base_status(i) for infos in groups.values() for i in infos},
                      key=lambda s: (_STATUS_ORDER.index(s) if s in _STATUS_ORDER else len(_STATUS_ORDER), s))
    header = ["section", "entries", *statuses]
    rows = []
    totals = {s: 0 for s in statuses}
    for key, heading in _SECTIONS:
        infos = groups.get(key, [])
        if not infos:
            continue
        counts = {s: sum(1 for i in infos if _base_status(i) == s) for s in statuses}
        for s, c in counts.items():
            totals[s] += c
        rows.append([heading, str(len(infos)), *(str(counts[s]) for s in statuses)])
    total = sum(len(v) for v in groups.values())
    rows.append(["**all**", f"**{total}**", *(f"**{totals[s]}**" for s in statuses)])
    lines = ["## Summary", ""]
    lines += [f"{total} catalogue entries; "
              + ", ".join(f"{totals[s]} {s}" for s in statuses)
              + f"; {weights} released weight{'s' if weights != 1 else ''}.", ""]
    lines += _table(header, rows)
    return lines


def _section(heading: str, infos: list[ModelInfo]) -> list[str]:
    lines = [f"## {heading}", ""]
    rows = []
    for info in infos:
        entry = info.entry
        rows.append([
            entry.id if entry else "",
            f"`{info.name}`",
            entry.source.split(" (")[0] if entry else "",
            info.title,
            info.task,
            _status(info),
            ", ".join(info.variants),
            str(len(entry.weights)) if entry else "0",
            _paper(info),
        ])
    lines += _table(["id", "method", "source", "title", "task", "status", "variants", "weights", "paper"], rows)
    return lines


CardOf = Callable[[str], "Path | None"]


def _card_link(path: Path | None, root: Path) -> str:
    """A relative Markdown link to a card under ``root`` (an absolute path would make the file machine-specific)."""
    if path is None:
        return ""
    try:
        rel = Path(os.path.relpath(path.resolve(), root.resolve()))
    except ValueError:  # another drive
        return ""
    return "" if rel.parts[:1] == ("..",) else f"[card]({rel.as_posix()})"


def _glance(built: list[ModelInfo], card_of: CardOf, root: Path) -> list[str]:
    """One row per implemented method: status, variants, headline figure here vs the paper's, card link."""
    rows = []
    for info in built:
        path = card_of(info.name)
        top = cards.headline(path.read_text(encoding="utf-8")) if path else None
        rows.append([
            f"`{info.name}`",
            _status(info),
            ", ".join(info.variants),
            top.figure if top else "no headline in the card",
            top.paper if top else "",
            top.value if top else "",
            _card_link(path, root) or "no card",
        ])
    header = ["method", "status", "variants", "headline figure", "paper", "measured here", "card"]
    return _table(header, rows) + [""]


def _implemented(infos: list[ModelInfo], card_of: CardOf, root: Path) -> list[str]:
    built = [i for i in infos if i.spec is not None]
    lines = ["## Implemented methods", ""]
    if not built:
        return lines + ["No installed plugin provides a catalogued method.", ""]
    lines += ["Headline figures come from each method card's *Measured here* table (the row marked `(headline)`, "
              "else the first row): the paper's value beside the one measured here.", ""]
    lines += _glance(built, card_of, root)
    for info in built:
        spec = info.spec
        assert spec is not None
        lines += [f"### `{info.name}`: {_cell(spec.title)}", ""]
        facts = [
            ("method card", _card_link(card_of(info.name), root)),
            ("task", spec.task),
            ("plugin", f"`{info.plugin}`" + (f" ({info.dist})" if info.dist else "")),
            ("licence", _license(info)),
            ("paper", _paper(info)),
            ("capabilities", ", ".join(sorted(spec.capabilities))),
            ("kernels", ", ".join(spec.kernels)),
            ("inputs", ", ".join(_input(i) for i in spec.inputs)),
        ]
        lines += [f"- {name}: {_cell(value)}" for name, value in facts if value]
        lines += [""]
        variant_rows = [[f"`{v.name}`" + (" (default)" if v.name == spec.default_variant else ""),
                         v.description] for v in spec.variants.values()]
        lines += _table(["variant", "description"], variant_rows) + [""]
    return lines


def _weights_section(pairs: list[tuple[ModelInfo, WeightSpec]]) -> list[str]:
    lines = ["## Released weights", ""]
    if not pairs:
        return lines + ["No weights are released yet: `registry.yaml` records none. A weight is added "
                        "with the record that `zoo.push(...).registry_record(tag)` returns; it then "
                        "appears here with its metrics.", ""]
    rows = []
    for info, w in pairs:
        rows.append([
            f"`{info.name}-{w.variant}.{w.tag}`",
            f"`{w.repo}@{w.revision}`",
            f"`{w.sha256[:12]}`",
            human_size(w.size),
            w.license,
            _metrics(w),
            f"`{w.command}`" if w.command else "",
        ])
    header = ["name", "repo@revision", "sha256", "size", "licence", "metrics (measured here)", "command"]
    lines += _table(header, rows)
    return lines + [""]


def render(infos: Sequence[ModelInfo] | None = None, *, card_of: CardOf | None = None,
           root: Path | None = None) -> str:
    """The whole ``MODEL_ZOO.md`` text (default: every catalogue entry, merged with the installed plugins).

    Args:
        infos: the methods to list (default: the catalogue merged with the installed plugins).
        card_of: where a method's card is (default: :func:`zoo.cards.card_path`).
        root: the folder the file is written to; card links are relative to it (default: the checkout's top).
    """
    if infos is None:
        from zoo import registry

        infos = registry.all_infos()
    card_of = card_of or cards.card_path
    root = root or default_path().parent
    catalogued = [i for i in infos if i.entry is not None]
    groups: dict[str, list[ModelInfo]] = {}
    for info in catalogued:
        assert info.entry is not None
        groups.setdefault(section_of(info.entry.source), []).append(info)
    for members in groups.values():
        members.sort(key=lambda i: (_natural_key(i.entry.id if i.entry else ""), i.name))
    ordered = [i for key, _ in _SECTIONS for i in groups.get(key, [])]
    pairs = _weights(ordered)

    lines = [
        "# Model zoo",
        "",
        f"<!-- Generated by `{REGENERATE}` from registry.yaml and the installed plugins. "
        "Do not edit by hand. -->",
        "",
        "Every system of the sources, implemented or not. *implemented*: an installed plugin provides it "
        "(`zoo.build(\"<method>-tiny\")` works); *planned*: catalogued, not written yet; *not-applicable*: "
        "nothing to implement (the reason is given). Variants of implemented methods come from their "
        "plugins; metrics are those recorded with released weights, measured here.",
        "",
    ]
    lines += _summary(groups, len(pairs)) + [""]
    lines += _implemented(ordered, card_of, root)
    lines += _weights_section(pairs)
    for key, heading in _SECTIONS:
        if groups.get(key):
            lines += _section(heading, groups[key]) + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


def default_path() -> Path:
    """The top-level ``MODEL_ZOO.md`` of a source checkout, else ``./MODEL_ZOO.md``."""
    root = Path(__file__).resolve().parent.parent.parent
    if (root / "pyproject.toml").is_file() and (root / "zoo").is_dir():
        return root / FILENAME
    return Path.cwd() / FILENAME


def is_stale(path: Path, text: str | None = None) -> bool:
    """True when ``path`` is missing or differs from :func:`render`."""
    current = render() if text is None else text
    return not path.is_file() or path.read_text(encoding="utf-8") != current


def write(path: Path | None = None) -> Path:
    """Render and write ``MODEL_ZOO.md`` atomically; returns the path."""
    from zoo.io import atomic_write_text

    target = path or default_path()
    atomic_write_text(target, render())
    return target
