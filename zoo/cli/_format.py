"""Text output of the command line: plain tables and a readable view of a method's inference outputs.

``zoo infer`` prints :func:`format_outputs` (one row per sample, class names where the method gives them, a
one-line summary for large arrays); ``--json`` prints :func:`to_jsonable` instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

#: A 2-D per-sample output with at most this many columns is printed in full; wider ones show their top entries.
MAX_COLUMNS = 6
TOP = 3


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, a dashed rule under the header."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def fmt(value: Any) -> str:
    """A number with 4 significant digits (``nan`` spelled out), anything else as ``str``."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _is_tensor(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype") and hasattr(value, "tolist")


def _scalar(value: Any) -> Any:
    """A Python scalar for a number, a string or a one-element array; ``None`` otherwise."""
    if _is_tensor(value) and tuple(value.shape) in ((), (1,)):
        return value.reshape(-1)[0].item()
    if isinstance(value, (int, float, bool)) or (isinstance(value, str) and "\n" not in value and len(value) < 80):
        return value
    return None


def to_jsonable(value: Any) -> Any:
    """Outputs as JSON values: arrays become nested lists, mappings dicts, other objects their ``str``."""
    if _is_tensor(value):
        return value.detach().cpu().tolist() if hasattr(value, "detach") else value.tolist()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (int, float, bool, str)):
        return value
    if hasattr(value, "__fspath__"):
        return str(value)
    return str(value)


def _length(value: Any) -> int | None:
    if _is_tensor(value) and len(value.shape) >= 1:
        return int(value.shape[0])
    if isinstance(value, (list, tuple)) and value:
        return len(value)
    return None


def _labels(outputs: Mapping[str, Any]) -> list[str] | None:
    for key in ("classes", "class_names", "labels_names", "names"):
        value = outputs.get(key)
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
            return list(value)
    return None


def _cell(value: Any, names: list[str] | None) -> str | None:
    """One sample's value as a table cell, or ``None`` when it is too big for a cell."""
    if _is_tensor(value):
        if len(value.shape) == 0:
            return fmt(value.item())
        if len(value.shape) == 1:
            items = value.tolist()
            if len(items) <= MAX_COLUMNS:
                return "[" + ", ".join(fmt(v) for v in items) + "]"
            if getattr(value.dtype, "is_floating_point", False):
                order = sorted(range(len(items)), key=lambda i: -items[i])[:TOP]
                label = (lambda i: names[i]) if names and len(names) == len(items) else str
                return ", ".join(f"{label(i)} {fmt(items[i])}" for i in order)
        return None
    if isinstance(value, (list, tuple)):
        if all(_scalar(v) is not None for v in value) and len(value) <= 2 * MAX_COLUMNS:
            return ", ".join(fmt(_scalar(v)) for v in value)
        return None
    scalar = _scalar(value)
    return fmt(scalar) if scalar is not None else None


def _summary(key: str, value: Any) -> str:
    """``key: tensor (2, 3, 30, 151) float32, min .. mean .. max ..``."""
    if _is_tensor(value):
        shape = "(" + ", ".join(str(d) for d in value.shape) + ")"
        dtype = str(value.dtype).replace("torch.", "")
        text = f"{key}: array {shape} {dtype}"
        try:
            data = value.detach().float() if hasattr(value, "detach") else value.astype("float64")
            if data.numel() if hasattr(data, "numel") else data.size:
                text += f", min {fmt(float(data.min()))}, mean {fmt(float(data.mean()))}, max {fmt(float(data.max()))}"
        except (TypeError, ValueError, RuntimeError):
            pass
        return text
    if isinstance(value, (list, tuple)):
        return f"{key}: list of {len(value)}"
    return f"{key}: {type(value).__name__}"


def format_outputs(outputs: Any) -> str:
    """A human-readable view of a method's outputs.

    Scalars print as ``key: value``; mappings of numbers that share their keys (``cycle_time_ms`` and
    ``speedup_vs_ring`` per topology) as one table; per-sample values (first dimension = the batch) as one row
    per sample, with the top class names for wide score vectors; text blocks as they are; anything larger as a
    one-line summary (shape, dtype, min, mean, max).
    """
    if not isinstance(outputs, Mapping):
        outputs = {"output": outputs}
    names = _labels(outputs)
    lines: list[str] = []
    blocks: list[str] = []
    tables: dict[tuple[str, ...], dict[str, Mapping[str, Any]]] = {}
    per_sample: dict[str, Any] = {}
    summaries: list[str] = []
    lengths: dict[int, int] = {}
    def is_names(value: Any) -> bool:
        return names is not None and isinstance(value, (list, tuple)) and list(value) == names

    for value in outputs.values():
        n = _length(value)
        if n is not None and not is_names(value):
            lengths[n] = lengths.get(n, 0) + 1
    batch = max(lengths, key=lambda n: (lengths[n], -n)) if lengths else None
    for key, value in outputs.items():
        key = str(key)
        if is_names(value):
            continue
        scalar = _scalar(value)
        if scalar is not None:
            lines.append(f"{key}: {fmt(scalar)}")
        elif isinstance(value, str):
            blocks.append(f"{key}:\n{value.rstrip()}")
        elif isinstance(value, Mapping) and value and all(_scalar(v) is not None for v in value.values()):
            tables.setdefault(tuple(str(k) for k in value), {})[key] = value
        elif batch is not None and _length(value) == batch and all(
            _cell(value[i], names) is not None for i in range(batch)
        ):
            per_sample[key] = value
        else:
            summaries.append(_summary(key, value))
    out: list[str] = []
    if per_sample and batch is not None:
        header = ["sample", *per_sample]
        rows = [[str(i), *(_display(k, v[i], names) for k, v in per_sample.items())] for i in range(batch)]
        out.append(text_table(header, rows))
    for keys, columns in tables.items():
        header = ["", *columns]
        rows = [[k, *(fmt(_scalar(col[k])) for col in columns.values())] for k in keys]
        out.append(text_table(header, rows))
    out.extend(blocks)
    if lines:
        out.append("\n".join(lines))
    if summaries:
        out.append("\n".join(summaries))
    return "\n\n".join(out) if out else "(no outputs)"


def _display(key: str, value: Any, names: list[str] | None) -> str:
    """A per-sample cell; an integer label shows its class name when the method names its classes."""
    if names and key in ("label", "labels", "pred", "prediction", "class") and _scalar(value) is not None:
        index = _scalar(value)
        if isinstance(index, int) and 0 <= index < len(names):
            return f"{names[index]} ({index})"
    return _cell(value, names) or ""
