"""The CFOR ontology: Object -> Region -> Category, with attribute groups, as user-editable YAML.

Relations follow the paper: a region is ``part_of`` the object, a category is ``part_of`` its region, and an
attribute group ``has_a`` relation to the object (groups are shared by every category unless restricted).
The offline construction steps of the paper's Algorithm 1 are here too: :func:`extract_predicates` collects the
label sets of each annotation level, :func:`build_ontology` adapts the prior ontology to them (unused prior levels
dropped), and :func:`extract_states` lists the states (one classifier each) with their classes.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from zoo.io import atomic_write_text
from zoo.errors import ConfigError

BUILTIN = Path(__file__).with_name("ontologies")


@dataclass(frozen=True)
class Node:
    """One concept: its level (object, region, category, group, attribute), name, parent and relation."""

    level: str
    name: str
    parent: str | None
    relation: str  # "part_of" | "has_a" | "root"


@dataclass(frozen=True)
class Ontology:
    """Regions with their categories, and attribute groups with their attributes.

    ``leaves`` are the (region, category) pairs, each with its own index at retrieval time.
    """

    object: str
    regions: Mapping[str, tuple[str, ...]]
    attribute_groups: Mapping[str, tuple[str, ...]]
    name: str = ""
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        validate(self)

    @property
    def region_names(self) -> tuple[str, ...]:
        """Regions in declaration order (the region classifier's classes)."""
        return tuple(self.regions)

    @property
    def group_names(self) -> tuple[str, ...]:
        """Attribute groups in declaration order (one multi-task model each)."""
        return tuple(self.attribute_groups)

    @property
    def leaves(self) -> tuple[tuple[str, str], ...]:
        """Every (region, category) pair."""
        return tuple((r, c) for r, cats in self.regions.items() for c in cats)

    @property
    def categories(self) -> tuple[str, ...]:
        """All categories, region by region (a global category index)."""
        return tuple(c for cats in self.regions.values() for c in cats)

    @property
    def attributes(self) -> tuple[str, ...]:
        """All attributes, group by group (the bits of the attribute vector)."""
        return tuple(a for attrs in self.attribute_groups.values() for a in attrs)

    def region_of(self, category: str) -> str:
        """The region a category is part of."""
        for region, cats in self.regions.items():
            if category in cats:
                return region
        raise ConfigError(f"category {category!r} is not in ontology {self.name or self.object!r}")

    def nodes(self) -> list[Node]:
        """The ontology as typed nodes with their relations."""
        out = [Node("object", self.object, None, "root")]
        for region, cats in self.regions.items():
            out.append(Node("region", region, self.object, "part_of"))
            out.extend(Node("category", c, region, "part_of") for c in cats)
        for group, attrs in self.attribute_groups.items():
            out.append(Node("group", group, self.object, "has_a"))
            out.extend(Node("attribute", a, group, "has_a") for a in attrs)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The YAML/JSON form."""
        return {"name": self.name, "object": self.object,
                "regions": {r: list(c) for r, c in self.regions.items()},
                "attribute_groups": {g: list(a) for g, a in self.attribute_groups.items()}}


def validate(onto: Ontology) -> None:
    """Structural checks with messages that name the offending node."""
    if not onto.object:
        raise ConfigError("ontology: 'object' must be a non-empty name")
    if not onto.regions:
        raise ConfigError("ontology: at least one region is required")
    seen: dict[str, str] = {}
    for region, cats in onto.regions.items():
        if not cats:
            raise ConfigError(f"ontology: region {region!r} has no categories")
        for cat in cats:
            if cat in seen:
                raise ConfigError(f"ontology: category {cat!r} is in regions {seen[cat]!r} and {region!r}; "
                                  "a category is part of exactly one region")
            seen[cat] = region
    names: dict[str, str] = {}
    for group, attrs in onto.attribute_groups.items():
        if not attrs:
            raise ConfigError(f"ontology: attribute group {group!r} has no attributes")
        for attr in attrs:
            if attr in names:
                raise ConfigError(f"ontology: attribute {attr!r} is in groups {names[attr]!r} and {group!r}")
            names[attr] = group


def _names(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"ontology: {where} must be a list of non-empty names, got {value!r}")
    return tuple(value)


def from_dict(data: Any, origin: str = "ontology") -> Ontology:
    """Build and validate an ontology from its YAML/JSON form."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{origin}: expected a mapping with object, regions and attribute_groups")
    unknown = sorted(set(data) - {"name", "object", "regions", "attribute_groups"})
    if unknown:
        raise ConfigError(f"{origin}: unknown keys {unknown}")
    for key in ("object", "regions", "attribute_groups"):
        if key not in data:
            raise ConfigError(f"{origin}: missing {key!r}")
    regions, groups = data["regions"], data["attribute_groups"]
    if not isinstance(regions, Mapping) or not isinstance(groups, Mapping):
        raise ConfigError(f"{origin}: 'regions' and 'attribute_groups' must be mappings of name -> list")
    return Ontology(object=str(data["object"]),
                    regions={str(r): _names(c, f"regions.{r}") for r, c in regions.items()},
                    attribute_groups={str(g): _names(a, f"attribute_groups.{g}") for g, a in groups.items()},
                    name=str(data.get("name", "")))


def load(path_or_name: str | Path) -> Ontology:
    """Load a YAML ontology from a path, or a built-in one by name (``fashion``, ``tiny``)."""
    path = Path(path_or_name)
    if not path.suffix and (BUILTIN / f"{path_or_name}.yaml").is_file():
        path = BUILTIN / f"{path_or_name}.yaml"
    if not path.is_file():
        raise ConfigError(f"ontology file not found: {path} (built-in: "
                          f"{', '.join(p.stem for p in BUILTIN.glob('*.yaml'))})")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    return from_dict(data, origin=str(path))


def save(onto: Ontology, path: str | Path) -> None:
    """Write the ontology as YAML (atomically)."""
    atomic_write_text(path, yaml.safe_dump(onto.to_dict(), sort_keys=False))


# --- Algorithm 1 (offline construction) -------------------------------------------------------------------

def extract_predicates(annotations: Iterable[Mapping[str, Any]], levels: Sequence[str]) -> dict[str, list[str]]:
    """For every annotation level, the unique labels in first-seen order (``extract_predicates``)."""
    out: dict[str, list[str]] = {level: [] for level in levels}
    for record in annotations:
        for level in levels:
            values = record.get(level, ())
            for value in ([values] if isinstance(values, str) else values):
                if value not in out[level]:
                    out[level].append(value)
    return out


def build_ontology(annotations: Sequence[Mapping[str, Any]], prior: Ontology) -> Ontology:
    """Adapt ``prior`` to the labels present in ``annotations`` (``build_ontology``): unused categories,
    regions, attributes and groups are dropped; labels unknown to the prior are an error naming them."""
    predicates = extract_predicates(annotations, ("category", "attributes"))
    unknown_cats = sorted(set(predicates["category"]) - set(prior.categories))
    unknown_attrs = sorted(set(predicates["attributes"]) - set(prior.attributes))
    if unknown_cats or unknown_attrs:
        raise ConfigError(f"labels not in the prior ontology: categories {unknown_cats}, attributes {unknown_attrs}")
    used_cats, used_attrs = set(predicates["category"]), set(predicates["attributes"])
    regions = {r: tuple(c for c in cats if c in used_cats) for r, cats in prior.regions.items()}
    groups = {g: tuple(a for a in attrs if a in used_attrs) for g, attrs in prior.attribute_groups.items()}
    return Ontology(prior.object, {r: c for r, c in regions.items() if c}, {g: a for g, a in groups.items() if a},
                    name=f"{prior.name or prior.object} (adapted)")


def extract_states(onto: Ontology) -> dict[str, tuple[str, ...]]:
    """The states (one model each) and their classes: region, one category state per region, one per group."""
    states: dict[str, tuple[str, ...]] = {"region": onto.region_names}
    states.update({f"category/{r}": cats for r, cats in onto.regions.items()})
    states.update({f"attributes/{g}": attrs for g, attrs in onto.attribute_groups.items()})
    return states
