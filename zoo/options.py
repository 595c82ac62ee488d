"""Typed options: the one object every ``train``/``infer``/``evaluate`` hook receives as ``options``.

A method declares the options it understands (:class:`zoo.specs.OptionSpec`: name, kind, default, help, which
hooks). :func:`make_options` turns what a user gave (Python values, or strings from the command line) into an
:class:`Options` object: values are coerced to the declared kind (``--top-k 3`` arrives as the int ``3``),
defaults are filled in, and an unknown name is a :class:`~zoo.errors.ConfigError` that lists the known ones.

``Options`` is a read-only mapping with attribute access (``options.top_k`` or ``options["top_k"]``).
:class:`TrainOptions` is the ``Options`` of training: the run settings every method shares (steps, seed, out_dir,
...) plus the method's own declared train options.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from zoo.errors import ConfigError
from zoo.specs import OPTION_KINDS, MethodSpec, OptionSpec


class Options(Mapping[str, Any]):
    """A read-only mapping of option values with attribute access."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None, /, **values: Any) -> None:
        merged = dict(data or {})
        merged.update(values)
        object.__setattr__(self, "_data", merged)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(f"no option {name!r}; options given: {sorted(self._data)}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("options are read-only; use .replace(name=value)")

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in self._data.items())
        return f"{type(self).__name__}({body})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    def __hash__(self) -> int:  # pragma: no cover - options are not meant as dict keys
        raise TypeError("Options is not hashable")

    def replace(self, **changes: Any) -> Options:
        """A copy with ``changes`` applied (same type)."""
        copy = type(self).__new__(type(self))
        object.__setattr__(copy, "_data", {**self._data, **changes})
        return copy

    def to_dict(self) -> dict[str, Any]:
        """A plain ``dict`` copy."""
        return dict(self._data)


#: The run settings of every training job, with their defaults.
TRAIN_DEFAULTS: dict[str, Any] = {
    "steps": None,  # optimizer steps; None = the recipe's own length
    "out_dir": None,  # checkpoints, curves and the final weights
    "seed": 0,  # seeds initialisation (zoo.build) and the data order
    "device": "cpu",
    "resume": False,  # continue from the newest checkpoint in out_dir
    "progress": True,
    "log_every": 10,
    "checkpoint_every": None,
    "eval_every": None,
}


class TrainOptions(Options):
    """The options of a training run: :data:`TRAIN_DEFAULTS` plus the method's declared train options.

    ``TrainOptions(steps=100, seed=1)`` fills in the other run settings; attribute access gives each one
    (``options.steps``); method-specific options ride along (``options.warmup``).
    """

    __slots__ = ()

    steps: int | None
    out_dir: str | None
    seed: int
    device: str
    resume: bool
    progress: bool
    log_every: int
    checkpoint_every: int | None
    eval_every: int | None

    def __init__(self, data: Mapping[str, Any] | None = None, /, **values: Any) -> None:
        super().__init__({**TRAIN_DEFAULTS, **dict(data or {}), **values})


def coerce(spec: OptionSpec, value: Any, where: str) -> Any:
    """Convert ``value`` (a Python value, or a string from the command line) to the kind ``spec`` declares."""
    kind = spec.kind
    if value is None or kind == "any":
        return value
    try:
        if kind == "bool":
            if isinstance(value, str):
                low = value.strip().lower()
                if low in ("1", "true", "yes", "on"):
                    return True
                if low in ("0", "false", "no", "off"):
                    return False
                raise ValueError(value)
            return bool(value)
        if kind in ("int", "float", "str", "path"):
            out = _scalar(kind, value)
        else:  # ints, floats, strs: comma-separated on the command line
            items = value.split(",") if isinstance(value, str) else list(value)
            out = tuple(_scalar(kind[:-1], v) for v in items)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: option {spec.name!r} must be {spec.describe()}, got {value!r}") from None
    if spec.choices and out not in spec.choices:
        raise ConfigError(f"{where}: option {spec.name!r} must be one of {list(spec.choices)}, got {out!r}")
    return out


def _scalar(kind: str, value: Any) -> Any:
    if kind == "int":
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(value)
        if isinstance(value, bool):
            raise ValueError(value)
        return int(value)
    if kind == "float":
        return float(value)
    return str(value)


def make_options(
    specs: Iterable[OptionSpec],
    hook: str,
    given: Mapping[str, Any],
    *,
    where: str,
    base: Mapping[str, Any] | None = None,
    cls: type[Options] = Options,
) -> Options:
    """Build the ``options`` of ``hook`` from the declared ``specs`` and what the user ``given``.

    Args:
        specs: the method's declared options (only those listing ``hook`` apply).
        hook: ``"train"``, ``"infer"``, ``"evaluate"`` or ``"prepare_inputs"``.
        given: user values (keys may use ``-`` or ``_``).
        where: ``method`` name for error messages.
        base: settings that are always accepted (the run settings of training).
        cls: the class to return (:class:`TrainOptions` for training).

    Raises:
        ConfigError: an unknown option (the message lists the known ones) or a value of the wrong kind.
    """
    declared = {s.name: s for s in specs if hook in s.hooks}
    values: dict[str, Any] = dict(base or {})
    for spec in declared.values():
        values.setdefault(spec.name, spec.default)
    unknown: list[str] = []
    for raw_key, value in given.items():
        key = raw_key.replace("-", "_")
        if key in declared:
            values[key] = coerce(declared[key], value, where)
        elif base is not None and key in base:
            values[key] = value
        else:
            unknown.append(raw_key)
    if unknown:
        known = sorted(set(declared) | set(base or {}))
        raise ConfigError(f"{where}: unknown {hook} option(s) {sorted(unknown)}; "
                          f"this method accepts {known or 'no options'}")
    return cls(values)


def route_options(spec: MethodSpec, given: Mapping[str, Any], hooks: Sequence[str]) -> list[Options]:
    """Send each of ``given`` to the hooks that declare it, typed: one :class:`Options` per hook in ``hooks``.

    This is how ``zoo infer NAME --audio x.wav --gamma 0.5`` works: ``audio`` goes to ``prepare_inputs``,
    ``gamma`` to ``infer``, each as the kind the method declares.

    Raises:
        ConfigError: an option that none of ``hooks`` declares (the message lists what the method accepts).
    """
    declared = {o.name: o for o in spec.options}

    def key(name: str) -> str:
        return name.replace("-", "_")

    unknown = sorted(k for k in given if key(k) not in declared or not set(declared[key(k)].hooks) & set(hooks))
    if unknown:
        accepted = sorted(n for n, o in declared.items() if set(o.hooks) & set(hooks))
        raise ConfigError(f"{spec.name}: unknown option(s) {['--' + k.replace('_', '-') for k in unknown]}; this "
                          "method accepts " + (", ".join("--" + a.replace("_", "-") for a in accepted) or "no options"))
    return [make_options(spec.options, hook, {k: v for k, v in given.items() if hook in declared[key(k)].hooks},
                         where=spec.name) for hook in hooks]


__all__ = ["OPTION_KINDS", "Options", "TrainOptions", "TRAIN_DEFAULTS", "coerce", "make_options", "route_options"]
