"""State dicts: export for saving (shared tensors de-duplicated), strict key/shape checks, and loading a
model built on the meta device with ``assign=True`` (parameters are never initialised twice).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo.errors import StateDictMismatchError, WeightsError

#: safetensors ``__metadata__`` key listing tensors dropped because they share storage with another one.
ALIASES_KEY = "zoo.aliases"


@dataclass(frozen=True)
class Header:
    """The safetensors header: tensor names with dtype and shape, and the ``__metadata__`` strings."""

    tensors: dict[str, tuple[str, tuple[int, ...]]]
    metadata: dict[str, str]

    @property
    def aliases(self) -> dict[str, str]:
        """``{dropped name: kept name}`` for tensors that shared storage when saved."""
        raw = self.metadata.get(ALIASES_KEY)
        return dict(json.loads(raw)) if raw else {}


#: Byte alignment of the CPU tensors a loaded model keeps. safetensors places tensors at 8-byte offsets of the
#: file; CPU kernels pick vectorised paths by alignment, so a model assigned those tensors as they are computed
#: outputs that differ in the last bit from the model that was saved (seen with CFOR's timm backbones). Tensors
#: that are not aligned are copied into fresh (aligned) memory, so a reloaded model reproduces its outputs exactly.
_ALIGNMENT = 64


def read_header(path: str | Path) -> Header:
    """Read only the header of a safetensors file (a few KB, no tensor data)."""
    try:
        with open(path, "rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            if length > 100_000_000:
                raise ValueError(f"header length {length} is implausible")
            raw = json.loads(handle.read(length))
    except (OSError, ValueError, struct.error) as exc:
        raise WeightsError(f"{path} is not a readable safetensors file: {exc}") from exc
    metadata = raw.pop("__metadata__", None) or {}
    tensors = {name: (str(info["dtype"]), tuple(int(d) for d in info["shape"])) for name, info in raw.items()}
    return Header(tensors=tensors, metadata={str(k): str(v) for k, v in metadata.items()})


@dataclass
class MismatchReport:
    """What strict loading found wrong: keys the model wants but the file lacks, extra keys, wrong shapes."""

    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    shapes: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when keys and shapes match exactly."""
        return not (self.missing or self.unexpected or self.shapes)

    def render(self, limit: int = 20) -> str:
        """A readable multi-line report (at most ``limit`` lines per section)."""
        lines: list[str] = []

        def section(title: str, rows: list[str]) -> None:
            if rows:
                lines.append(f"{title} ({len(rows)}):")
                lines.extend(f"  - {r}" for r in rows[:limit])
                if len(rows) > limit:
                    lines.append(f"  ... and {len(rows) - limit} more")

        section("missing in the weights file (the model expects them)", self.missing)
        section("unexpected in the weights file (the model has no such key)", self.unexpected)
        section("shape mismatches", [f"{k}: model {list(m)} vs file {list(f)}" for k, m, f in self.shapes])
        return "\n".join(lines)


def compare(
    model_shapes: Mapping[str, tuple[int, ...]], file_shapes: Mapping[str, tuple[int, ...]]
) -> MismatchReport:
    """Compare the model's state-dict shapes with the file's (both ``{key: shape}``)."""
    report = MismatchReport(
        missing=sorted(set(model_shapes) - set(file_shapes)),
        unexpected=sorted(set(file_shapes) - set(model_shapes)),
    )
    for key in sorted(set(model_shapes) & set(file_shapes)):
        if tuple(model_shapes[key]) != tuple(file_shapes[key]):
            report.shapes.append((key, tuple(model_shapes[key]), tuple(file_shapes[key])))
    return report


def raise_on_mismatch(report: MismatchReport, what: str) -> None:
    """Raise :class:`StateDictMismatchError` with the rendered report unless it is clean."""
    if not report.ok:
        raise StateDictMismatchError(
            f"weights {what} do not fit the model (strict loading):\n{report.render()}"
        )


def export_state_dict(model: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The model's tensors ready for safetensors, and the aliases of tensors that share storage.

    Tied weights (one storage under two names) are written once; ``{dropped: kept}`` goes to the metadata so
    loading restores both names.
    """
    import torch

    state = model.state_dict()
    extra = [k for k in state if k.endswith("_extra_state")]
    if extra:
        raise WeightsError(f"modules with get_extra_state() cannot be saved as safetensors: {extra}")
    tensors: dict[str, torch.Tensor] = {}
    aliases: dict[str, str] = {}
    seen: dict[tuple[Any, ...], str] = {}
    for name, tensor in state.items():
        if not isinstance(tensor, torch.Tensor):
            raise WeightsError(f"state-dict entry {name!r} is a {type(tensor).__name__}, not a tensor")
        t = tensor.detach()
        key = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape), tuple(t.stride()))
        if t.numel() > 0 and key in seen:
            aliases[name] = seen[key]
            continue
        if t.numel() > 0:
            seen[key] = name
        tensors[name] = t.to("cpu").contiguous()
    # safetensors refuses any remaining partial overlap between tensors: clone those.
    owners: dict[int, str] = {}
    for name, t in list(tensors.items()):
        ptr = t.untyped_storage().data_ptr()
        if t.numel() and ptr in owners:
            tensors[name] = t.clone()
        elif t.numel():
            owners[ptr] = name
    return tensors, aliases


def _tied_groups(model: Any) -> list[list[str]]:
    """Names of parameters/buffers that are one object (tied) in the freshly built model."""
    groups: dict[int, list[str]] = {}
    for prefix, module in model.named_modules(remove_duplicate=False):
        for kind in ("_parameters", "_buffers"):
            for name, value in getattr(module, kind).items():
                if value is not None:
                    groups.setdefault(id(value), []).append(f"{prefix}.{name}" if prefix else name)
    return [sorted(set(names)) for names in groups.values() if len(set(names)) > 1]


def _get_owner(model: Any, dotted: str) -> tuple[Any, str]:
    module_path, _, attr = dotted.rpartition(".")
    return (model.get_submodule(module_path) if module_path else model), attr


def _retie(model: Any, groups: list[list[str]]) -> None:
    """Make tied names one object again after ``assign=True`` gave each its own."""
    for names in groups:
        owner, attr = _get_owner(model, names[0])
        first = getattr(owner, attr)
        for other in names[1:]:
            module, name = _get_owner(model, other)
            if name in module._parameters:
                module._parameters[name] = first
            else:
                module._buffers[name] = first


def _leftover_meta(model: Any) -> list[str]:
    """Parameters or buffers still on the meta device (e.g. non-persistent buffers)."""
    names = [n for n, p in model.named_parameters() if p.is_meta]
    names += [n for n, b in model.named_buffers() if b is not None and b.is_meta]
    return names


@dataclass
class LoadOutcome:
    """How the tensors went into the model: ``init`` is ``"meta"`` (assign, no double init) or ``"eager"``."""

    model: Any
    init: str
    note: str = ""


def load_weights(
    build: Callable[[], Any],
    file_shapes: Mapping[str, tuple[int, ...]],
    read_state: Callable[[Any], dict[str, Any]],
    *,
    aliases: Mapping[str, str] | None = None,
    device: Any = None,
    dtype: Any = None,
    what: str,
) -> LoadOutcome:
    """Build the model on the meta device, check keys strictly, and load the tensors with ``assign=True``.

    Args:
        build: builds the (randomly initialised) model; called under ``torch.device("meta")``.
        file_shapes: ``{key: shape}`` of the tensors in the file (from the header: nothing is read yet).
        read_state: reads the tensors onto a given device.
        aliases: ``{dropped: kept}`` tensors that shared storage when saved.
        device, dtype: where and in which floating dtype the model ends up (default CPU, the model's dtypes).
        what: names the weights in errors.

    Falls back to an ordinary build (then copy) when the model cannot be built on meta or keeps meta tensors the
    file does not provide (non-persistent buffers computed in ``__init__``); :attr:`LoadOutcome.init` says which.
    """
    import torch

    target = torch.device(device) if device is not None else torch.device("cpu")
    shapes = dict(file_shapes)
    for dropped, kept in (aliases or {}).items():
        if kept in shapes:
            shapes[dropped] = shapes[kept]
    note = ""
    try:
        with torch.device("meta"):
            model = build()
    except Exception as exc:  # a plugin whose __init__ computes with real data
        model, note = None, f"meta build failed ({type(exc).__name__}: {exc}); built eagerly"
    reference = model if model is not None else build()
    if not hasattr(reference, "load_state_dict"):
        raise WeightsError(
            f"{what}: zoo_build returned a {type(reference).__name__}, which has no load_state_dict"
        )
    expected = reference.state_dict()
    raise_on_mismatch(compare({k: tuple(v.shape) for k, v in expected.items()}, shapes), what)

    state = read_state(target)
    for dropped, kept in (aliases or {}).items():
        if kept in state:
            state[dropped] = state[kept]
    for key, tensor in state.items():
        model_dtype = expected[key].dtype
        want = dtype if (dtype is not None and tensor.is_floating_point()) else model_dtype
        if tensor.dtype != want:
            state[key] = tensor.to(want)
        elif tensor.device.type == "cpu" and tensor.data_ptr() % _ALIGNMENT:
            state[key] = tensor.clone()  # see _ALIGNMENT

    if model is not None:
        groups = _tied_groups(model)
        model.load_state_dict(state, strict=True, assign=True)
        _retie(model, groups)
        leftover = _leftover_meta(model)
        if not leftover:
            return LoadOutcome(model, "meta", note)
        note = f"tensors not in the file stayed on meta ({leftover[:5]}); built eagerly"
        reference = build()
    reference.to(target)
    if dtype is not None:
        reference.to(dtype)
    reference.load_state_dict(state, strict=True)
    return LoadOutcome(reference, "eager", note)
