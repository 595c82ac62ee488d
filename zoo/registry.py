"""The registry: the catalogue (``registry.yaml``) merged with the methods that installed plugins declare.

``list_models`` and ``info`` read declarations only (no torch, no model code). ``resolve`` turns a user's name into
the method, variant, spec and catalogue entry that the API and the weights loader need.
"""
from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from zoo import catalogue, constants, discovery
from zoo.errors import NotImplementedMethodError, PluginError, UnknownModelError
from zoo.names import ModelName, resolve_base
from zoo.specs import CatalogueEntry, MethodSpec, VariantSpec


@dataclass(frozen=True)
class ModelInfo:
    """Everything known about one method: its catalogue entry and, if a plugin provides it, its spec."""

    name: str
    status: str
    task: str
    title: str
    entry: CatalogueEntry | None
    spec: MethodSpec | None
    plugin: str | None
    dist: str | None
    variants: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def available(self) -> bool:
        """True when an installed plugin provides the method (it can be built)."""
        return self.spec is not None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able view (for ``zoo info --json`` and ``zoo list --json``)."""
        entry = self.entry
        return {
            "name": self.name,
            "status": self.status,
            "task": self.task,
            "title": self.title,
            "id": entry.id if entry else None,
            "source": entry.source if entry else None,
            "reason": entry.reason if entry else "",
            "plugin": self.plugin,
            "distribution": self.dist,
            "variants": list(self.variants),
            "default_variant": self.spec.default_variant if self.spec else None,
            "capabilities": list(self.capabilities),
            "kernels": list(self.spec.kernels) if self.spec else [],
            "inputs": [{"name": i.name, "shape": list(i.shape), "dtype": i.dtype} for i in self.spec.inputs]
            if self.spec else [],
            "license": (self.spec.license if self.spec else "") or (entry.license if entry else ""),
            "paper": (self.spec.paper if self.spec else "") or (entry.paper if entry else ""),
            "weights": [w.__dict__ | {"metrics": dict(w.metrics)} for w in entry.weights] if entry else [],
            "notes": entry.notes if entry else "",
            "problem": self.extra.get("problem", ""),
        }


def _infos() -> dict[str, ModelInfo]:
    entries = catalogue.load()
    found = discovery.plugins()
    infos: dict[str, ModelInfo] = {}
    for name in sorted(set(entries) | set(found.methods)):
        entry = entries.get(name)
        spec = found.methods.get(name)
        owner = found.owners.get(name)
        plugin = found.plugins.get(owner) if owner else None
        extra: dict[str, Any] = {}
        if spec is not None:
            status = "implemented"
        elif entry is not None and entry.status == "implemented":
            failed = found.failure_of(entry.plugin) if entry.plugin else None
            status = "implemented (plugin failed to load)" if failed else "implemented (plugin not installed)"
            if failed is not None:
                extra["problem"] = failure_message(name, failed)
        else:
            status = entry.status if entry else "implemented"
        infos[name] = ModelInfo(
            name=name,
            status=status,
            task=spec.task if spec else entry.task if entry else "",
            title=spec.title if spec else entry.title if entry else "",
            entry=entry,
            spec=spec,
            plugin=owner or (entry.plugin if entry else None),
            dist=plugin.dist if plugin else None,
            variants=tuple(spec.variants) if spec else tuple(entry.variants if entry else ()),
            capabilities=tuple(sorted(spec.capabilities)) if spec else (),
            extra=extra,
        )
    return infos


def failure_message(method: str, failure: discovery.PluginFailure) -> str:
    """What using a method of a plugin that failed to load says (``zoo info``, ``zoo.build``, ``zoo train``...)."""
    return (f"{method!r} is provided by plugin {failure.name!r}, which failed to load ({failure.stage}): "
            f"{failure.error}. `zoo doctor -v` shows the traceback.")


def list_models(
    pattern: str | Iterable[str] = "*",
    *,
    task: str | None = None,
    status: str | None = None,
    capability: str | Iterable[str] | None = None,
    source: str | None = None,
    exclude: str | Iterable[str] = (),
    include_variants: bool = False,
) -> list[str]:
    """Names in the catalogue and the installed plugins, filtered.

    Args:
        pattern: fnmatch pattern(s) on the method name (``"gcd*"``).
        task: substring of the task family (``"federated"``).
        status: ``implemented`` (an installed plugin provides it), ``planned``, ``not-applicable``, or the exact
            status ``implemented (plugin not installed)`` / ``implemented (plugin failed to load)``.
        capability: capabilities the method must declare (``"cpu"``, ``"audio"``, ``"kernels"``...).
        source: substring of the source (``"prcv"``, ``"blog"``, ``"papers"``).
        exclude: fnmatch pattern(s) to drop.
        include_variants: list ``method-variant`` names of implemented methods instead of method names.
    """
    discovery.check_healthy(discovery.plugins(), "listing the catalogue")
    patterns = [pattern] if isinstance(pattern, str) else list(pattern)
    excludes = [exclude] if isinstance(exclude, str) else list(exclude)
    wanted_caps = {capability} if isinstance(capability, str) else set(capability or ())
    names: list[str] = []
    for name, info in _infos().items():
        if not any(fnmatch.fnmatchcase(name, p) for p in patterns):
            continue
        if any(fnmatch.fnmatchcase(name, p) for p in excludes):
            continue
        if task and task.lower() not in info.task.lower():
            continue
        if status and info.status != status:
            continue
        if wanted_caps and not wanted_caps <= set(info.capabilities):
            continue
        if source and (info.entry is None or source.lower() not in info.entry.source.lower()):
            continue
        if include_variants and info.spec is not None:
            names.extend(f"{name}-{v}" for v in info.variants)
        else:
            names.append(name)
    return names


def all_infos() -> list[ModelInfo]:
    """Every :class:`ModelInfo`, sorted by name."""
    return list(_infos().values())


def _variants_of(infos: dict[str, ModelInfo]) -> Any:
    return lambda method: infos[method].variants


def parse(name: str) -> ModelName:
    """Resolve ``name`` to method, variant, tag and revision (raises with suggestions when unknown)."""
    infos = _infos()
    return resolve_base(name, infos.keys(), _variants_of(infos))


def info(name: str) -> ModelInfo:
    """The full record of a method (``name`` may carry a variant, tag or revision).

    Raises:
        PluginError: under ``ZOO_STRICT_PLUGINS=1``, when the method's plugin failed to load (the record says so
            in ``problem`` otherwise).
    """
    record = _infos()[parse(name).method]
    problem = record.extra.get("problem")
    if problem and constants.strict_plugins():
        raise PluginError(problem + " (strict mode ZOO_STRICT_PLUGINS=1 is on)", plugin=record.plugin)
    return record


@dataclass(frozen=True)
class Resolved:
    """A buildable name: the method's spec, the chosen variant and the catalogue entry."""

    name: ModelName
    spec: MethodSpec
    variant: VariantSpec
    entry: CatalogueEntry | None


def resolve(name: str) -> Resolved:
    """Resolve a name to something buildable.

    Raises:
        UnknownModelError: the name matches nothing.
        NotImplementedMethodError: the method is catalogued but no installed plugin provides it.
    """
    parsed = parse(name)
    model_info = _infos()[parsed.method]
    if model_info.spec is None:
        entry = model_info.entry
        found = discovery.plugins()
        failure = found.failure_of(entry.plugin) if entry and entry.plugin else None
        if failure is not None:
            raise PluginError(failure_message(parsed.method, failure), plugin=failure.name,
                              dist=f"{failure.dist} {failure.version}".strip())
        detail = f" ({entry.reason})" if entry and entry.reason else ""
        raise NotImplementedMethodError(
            f"{parsed.method!r} is in the catalogue with status {model_info.status!r}{detail}; "
            "no installed plugin provides it. Implemented methods: "
            + ", ".join(list_models(status="implemented"))
        )
    variant_name = parsed.variant or model_info.spec.default_variant
    return Resolved(
        name=ModelName(parsed.method, variant_name, parsed.tag, parsed.revision),
        spec=model_info.spec,
        variant=model_info.spec.variants[variant_name],
        entry=model_info.entry,
    )


def unknown(name: str) -> UnknownModelError:
    """The error for an unknown name, with suggestions (used by callers that look names up themselves)."""
    try:
        parse(name)
    except UnknownModelError as exc:
        return exc
    return UnknownModelError(name)


#: Fields that a catalogue entry and a plugin's declaration both state; they must agree.
CHECKED_FIELDS: tuple[str, ...] = ("title", "task", "license", "variants")


def mismatches() -> list[str]:
    """Where ``registry.yaml`` and an installed plugin's declaration disagree, field by field.

    The plugin's declaration is the source of truth for what it builds; the catalogue repeats title, task, licence
    and variants so that ``zoo list`` can show methods whose plugin is not installed. Each difference is one line
    naming the method, the field and both values (``zoo doctor`` prints them; a test keeps the list empty).
    """
    found = discovery.plugins()
    entries = catalogue.load()
    problems: list[str] = []
    for name, spec in sorted(found.methods.items()):
        entry = entries.get(name)
        if entry is None:
            continue
        declared = {"title": spec.title, "task": spec.task, "license": spec.license,
                    "variants": tuple(spec.variants)}
        for fld in CHECKED_FIELDS:
            recorded = getattr(entry, fld)
            if fld == "variants":
                recorded = tuple(recorded)
                if set(recorded) != set(declared[fld]):
                    problems.append(f"{name}: variants {list(recorded)} in registry.yaml, "
                                    f"{list(declared[fld])} declared by plugin {found.owners[name]!r}")
            elif recorded and recorded != declared[fld]:
                problems.append(f"{name}: {fld} {recorded!r} in registry.yaml, {declared[fld]!r} declared by plugin "
                                f"{found.owners[name]!r}")
        if entry.status != "implemented":
            problems.append(f"{name}: status {entry.status!r} in registry.yaml but plugin {found.owners[name]!r} "
                            "implements it")
    return problems
