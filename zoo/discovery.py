"""Plugin discovery: entry points -> pluggy registration -> method declarations, failing safely.

A plugin that fails to import, fails hook validation (an unknown or misspelled hook, a missing required hook)
or declares a bad method is recorded as a :class:`PluginFailure` (``zoo doctor`` shows it with distribution,
version and traceback) and the host keeps working: the failed plugin's methods raise "provided by plugin X, which
failed to load" when used. With ``ZOO_STRICT_PLUGINS=1`` a command that touches a failed plugin raises
(listing the whole catalogue touches every plugin; building another plugin's method does not).

Two plugins that claim one method name are recorded as a collision naming both distributions; using that name
raises :class:`~zoo.errors.NameCollisionError` unless ``ZOO_PROVIDERS=method=plugin`` pins the provider.
"""
from __future__ import annotations

import threading
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy

from zoo import constants
from zoo.errors import NameCollisionError, PluginError, ZooError
from zoo.hookspecs import PER_METHOD_HOOKS, REQUIRED_HOOKS, ZooHookSpecs
from zoo.specs import MethodSpec


@dataclass(frozen=True)
class PluginInfo:
    """A registered plugin: its entry-point name, the distribution that ships it and what it declares."""

    name: str
    dist: str
    version: str
    value: str
    methods: tuple[str, ...]
    hooks: tuple[str, ...]


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be used, with enough detail to fix it."""

    name: str
    dist: str
    version: str
    value: str
    stage: str  # "import" | "validate" | "declare" | "collision"
    error: str
    traceback: str = ""


@dataclass
class PluginSet:
    """The result of discovery: the pluggy manager, who owns which method, and what failed."""

    manager: pluggy.PluginManager
    plugins: dict[str, PluginInfo] = field(default_factory=dict)
    methods: dict[str, MethodSpec] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)
    collisions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _callers: dict[tuple[str, str], Any] = field(default_factory=dict)

    def owner_of(self, method: str) -> str:
        """Return the plugin name that provides ``method``; raise on a collision."""
        if method in self.collisions:
            raise NameCollisionError(collision_message(method, self.collisions[method]),
                                     plugin=self.owners.get(method))
        return self.owners[method]

    def failure_of(self, plugin: str) -> PluginFailure | None:
        """The recorded failure of the plugin (entry-point name) ``plugin``, if it failed."""
        return next((f for f in self.failures if f.name == plugin and f.stage != "collision"), None)

    def call(self, hook: str, method: str, **kwargs: Any) -> Any:
        """Call a per-method hook on the plugin that owns ``method`` only."""
        if hook not in PER_METHOD_HOOKS:
            raise ValueError(f"{hook!r} is not a per-method hook")
        owner = self.owner_of(method)
        key = (hook, owner)
        caller = self._callers.get(key)
        if caller is None:
            owner_obj = self.manager.get_plugin(owner)
            others = [p for p in self.manager.get_plugins() if p is not owner_obj]
            caller = self.manager.subset_hook_caller(hook, remove_plugins=others)
            self._callers[key] = caller
        try:
            return caller(method=method, **kwargs)
        except ZooError:
            raise  # the plugin's own domain error (bad input, bad config, missing data) passes through
        except Exception as exc:
            plugin = self.plugins.get(owner)
            raise PluginError(f"{hook} of method {method!r} raised {type(exc).__name__}: {exc} "
                              "(run with --debug for the traceback)", plugin=owner,
                              dist=f"{plugin.dist} {plugin.version}".strip() if plugin else None) from exc

    def implements(self, hook: str, method: str) -> bool:
        """Whether the plugin owning ``method`` implements ``hook`` (for an SDK plugin: declares a target)."""
        owner_obj = self.manager.get_plugin(self.owner_of(method))
        if not any(impl.plugin is owner_obj for impl in getattr(self.manager.hook, hook).get_hookimpls()):
            return False
        declared = getattr(owner_obj, "implements", None)
        return bool(declared(hook, method)) if callable(declared) else True

    def plugin_object(self, method: str) -> object:
        """The registered plugin object (module or :class:`zoo.plugin.Plugin`) that provides ``method``."""
        return self.manager.get_plugin(self.owner_of(method))


def collision_message(method: str, claimants: tuple[str, ...]) -> str:
    """What ``zoo list``, ``zoo doctor`` and the API say about a method claimed by several plugins."""
    plugins = [c.split(" ", 1)[0] for c in claimants]
    return (f"method {method!r} is claimed by {' and '.join(claimants)}; uninstall one distribution, or pin the "
            f"provider with ZOO_PROVIDERS={method}={plugins[-1]} (or ={plugins[0]})")


def warnings_of(found: PluginSet) -> list[str]:
    """One line per failed plugin and per collision: what ``zoo list`` warns about (``zoo doctor`` has the detail).

    A failure names the plugin, its distribution and the first line of the error, and points to ``zoo doctor -v``;
    a collision is :func:`collision_message` (both distributions, and how to resolve it), exactly as
    ``zoo doctor`` prints it.
    """
    lines: list[str] = []
    for failure in found.failures:
        if failure.stage == "collision":
            continue
        dist = f"{failure.dist} {failure.version}".strip()
        error = (failure.error.strip().splitlines() or [""])[0]
        lines.append(f"plugin {failure.name!r} ({dist}) failed to load ({failure.stage}: {error}); its methods are "
                     "unavailable. Run `zoo doctor -v` for the traceback.")
    lines += [collision_message(method, claimants) for method, claimants in found.collisions.items()]
    return lines


def new_manager() -> pluggy.PluginManager:
    """A plugin manager with zoo's hook specifications added (hook tracing with ``ZOO_TRACE_HOOKS=1``)."""
    manager = pluggy.PluginManager(constants.PLUGGY_PROJECT)
    manager.add_hookspecs(ZooHookSpecs)
    if constants.trace_hooks():
        import sys

        manager.trace.root.setwriter(lambda text: sys.stderr.write(text))
        manager.enable_tracing()
    return manager


def _dist_of(ep: metadata.EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return ("<unknown>", "")
    return (dist.metadata["Name"] or "<unknown>", dist.version or "")


def iter_entry_points() -> list[metadata.EntryPoint]:
    """Entry points of the ``zoo.plugins`` group, de-duplicated by (distribution, name, value)."""
    seen: set[tuple[str, str, str]] = set()
    unique: list[metadata.EntryPoint] = []
    for ep in metadata.entry_points(group=constants.ENTRY_POINT_GROUP):
        key = (_dist_of(ep)[0], ep.name, ep.value)
        if key not in seen:
            seen.add(key)
            unique.append(ep)
    return sorted(unique, key=lambda e: e.name)


class _Registrar:
    """Registers plugin objects one by one into a :class:`PluginSet`, recording failures."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.result = PluginSet(manager=new_manager())
        self.providers = constants.pinned_providers()

    def fail(self, failure: PluginFailure) -> None:
        self.result.failures.append(failure)

    def add(self, name: str, obj: ModuleType | object, dist: str, version: str, value: str) -> None:
        """Validate and register one plugin object, then collect its method declarations."""
        manager = self.result.manager
        if name in self.result.plugins:
            self.fail(PluginFailure(name, dist, version, value, "validate",
                                    f"a plugin named {name!r} is already registered "
                                    f"(from {self.result.plugins[name].dist})"))
            return
        try:
            manager.register(obj, name=name)
        except Exception as exc:  # pluggy raises PluginValidationError, ValueError
            self.fail(PluginFailure(name, dist, version, value, "validate", str(exc), traceback.format_exc()))
            return
        try:
            manager.check_pending()  # a misspelled hook (zoo_evalute) has no spec: reject the plugin
        except Exception as exc:
            manager.unregister(obj)
            self.fail(PluginFailure(name, dist, version, value, "validate", str(exc), traceback.format_exc()))
            return
        hooks = tuple(sorted(h.name for h in manager.get_hookcallers(obj) or ()))
        try:
            declared = list(obj.zoo_methods()) if "zoo_methods" in hooks else []  # type: ignore[union-attr]
            for spec in declared:
                if not isinstance(spec, MethodSpec):
                    raise TypeError(f"zoo_methods() must return MethodSpec objects, got {type(spec).__name__}")
        except Exception as exc:
            manager.unregister(obj)
            self.fail(PluginFailure(name, dist, version, value, "declare", str(exc), traceback.format_exc()))
            return
        missing = [h for h in REQUIRED_HOOKS if h not in hooks and h != "zoo_methods"]
        if declared and missing:  # only plugins that declare methods must build and infer them
            manager.unregister(obj)
            self.fail(PluginFailure(name, dist, version, value, "validate",
                                    f"declares methods {[s.name for s in declared]} but is missing required hooks "
                                    f"{missing}; implements {list(hooks)}"))
            return
        names: list[str] = []
        for spec in declared:
            if spec.name in self.result.owners:
                first = self.result.owners[spec.name]
                other = self.result.plugins[first]
                claimants = (f"{other.name} ({other.dist} {other.version})", f"{name} ({dist} {version})")
                pinned = self.providers.get(spec.name)
                if pinned in (first, name):
                    if pinned == name:
                        self.result.plugins[first] = _without(other, spec.name)
                        self.result.methods[spec.name] = spec
                        self.result.owners[spec.name] = name
                        names.append(spec.name)
                    continue
                self.result.collisions[spec.name] = claimants
                msg = collision_message(spec.name, claimants)
                self.result.failures.append(PluginFailure(name, dist, version, value, "collision", msg))
                continue
            if spec.name in self.providers and self.providers[spec.name] != name:
                continue  # another plugin is pinned as this method's provider
            self.result.methods[spec.name] = spec
            self.result.owners[spec.name] = name
            names.append(spec.name)
        self.result.plugins[name] = PluginInfo(name, dist, version, value, tuple(names), hooks)


def _without(info: PluginInfo, method: str) -> PluginInfo:
    """``info`` with ``method`` removed from the methods it provides."""
    return PluginInfo(info.name, info.dist, info.version, info.value,
                      tuple(m for m in info.methods if m != method), info.hooks)


def discover(
    entry_points: Iterable[metadata.EntryPoint] | None = None,
    extra: Mapping[str, object] | None = None,
    strict: bool | None = None,
) -> PluginSet:
    """Load every plugin and return the :class:`PluginSet`.

    Args:
        entry_points: entry points to load (default: the installed ``zoo.plugins`` group).
        extra: in-process plugins ``{name: module_or_object}`` registered after the entry points (tests,
            notebooks).
        strict: raise on the first failure instead of recording it (default: off; ``ZOO_STRICT_PLUGINS`` is
            applied where a failure is touched, see :func:`check_healthy`).
    """
    registrar = _Registrar(bool(strict))
    for ep in entry_points if entry_points is not None else iter_entry_points():
        dist, version = _dist_of(ep)
        try:
            obj = ep.load()
        except Exception as exc:
            registrar.fail(PluginFailure(ep.name, dist, version, ep.value, "import", f"{type(exc).__name__}: {exc}",
                                         traceback.format_exc()))
            continue
        registrar.add(ep.name, obj, dist, version, ep.value)
    for name, obj in (extra or {}).items():
        registrar.add(name, obj, "<in-process>", "", repr(obj))
    if registrar.strict and registrar.result.failures:
        first = registrar.result.failures[0]
        if first.stage == "collision":
            raise NameCollisionError(first.error, plugin=first.name, dist=f"{first.dist} {first.version}".strip())
        raise PluginError(f"{first.stage} failed: {first.error}\n{first.traceback}", plugin=first.name,
                          dist=f"{first.dist} {first.version}".strip())
    return registrar.result


def check_healthy(found: PluginSet, what: str) -> None:
    """Under ``ZOO_STRICT_PLUGINS=1``, raise when any plugin failed (for commands that touch every plugin).

    ``what`` names the command in the message (``listing the catalogue``).
    """
    if not constants.strict_plugins() or not found.failures:
        return
    failure = found.failures[0]
    raise PluginError(f"{failure.stage} failed: {failure.error} ({what} touches every plugin; strict mode "
                      "ZOO_STRICT_PLUGINS=1 is on; `zoo doctor -v` shows the traceback)",
                      plugin=failure.name, dist=f"{failure.dist} {failure.version}".strip())


_LOCK = threading.Lock()
_CURRENT: PluginSet | None = None
_EXTRA: dict[str, object] = {}


def plugins() -> PluginSet:
    """The process-wide plugin set, discovered on first use."""
    global _CURRENT
    with _LOCK:
        if _CURRENT is None:
            _CURRENT = discover(extra=_EXTRA)
        return _CURRENT


def register_plugin(obj: object, name: str) -> None:
    """Register an in-process plugin (a module or object with hook implementations) and rediscover."""
    _EXTRA[name] = obj
    reset()


def unregister_plugin(name: str) -> None:
    """Remove an in-process plugin registered with :func:`register_plugin`."""
    _EXTRA.pop(name, None)
    reset()


def reset() -> None:
    """Forget the discovered plugins (the next call to :func:`plugins` discovers again)."""
    global _CURRENT
    with _LOCK:
        _CURRENT = None
