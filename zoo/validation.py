"""Input validation against a method's declared :class:`~zoo.specs.InputSpec`s.

The core calls :func:`validate_inputs` before every ``zoo_infer``, so a wrong rank, dtype, channel count, an
empty batch or NaN/Inf gives one clear :class:`~zoo.errors.InputError` naming the expected shape, instead of a
deep PyTorch traceback from inside the model.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from zoo.errors import InputError
from zoo.specs import InputSpec

_DTYPE_KINDS = {
    "float": ("float", "complex"),
    "long": ("int",),
    "int": ("int", "uint"),
    "bool": ("bool",),
}


def _kind(tensor: Any) -> str:
    """Element kind of a torch tensor or numpy array: float, int, uint, bool, complex."""
    dtype = tensor.dtype
    if hasattr(dtype, "is_floating_point"):  # torch
        if dtype.is_floating_point:
            return "float"
        if dtype.is_complex:
            return "complex"
        if str(dtype) == "torch.bool":
            return "bool"
        return "uint" if str(dtype) == "torch.uint8" else "int"
    kind = getattr(dtype, "kind", "")
    return {"f": "float", "c": "complex", "b": "bool", "u": "uint", "i": "int"}.get(kind, "other")


def _is_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype")


def _all_finite(value: Any) -> bool:
    if hasattr(value, "isfinite"):
        result = value.isfinite().all()
        return bool(result.item() if hasattr(result, "item") else result)
    import numpy as np

    return bool(np.isfinite(value).all())


def validate_inputs(method: str, specs: Sequence[InputSpec], inputs: Mapping[str, Any]) -> dict[str, int]:
    """Check ``inputs`` against ``specs``; return the sizes bound to each shape symbol.

    Raises:
        InputError: naming the input, the expected shape and what was received.
    """
    if not isinstance(inputs, Mapping):
        raise InputError(f"{method}: inputs must be a mapping of name -> tensor, got {type(inputs).__name__}")
    known = {s.name for s in specs}
    unexpected = sorted(set(inputs) - known)
    if unexpected and specs:
        raise InputError(f"{method}: unexpected inputs {unexpected}; expected {sorted(known)}")
    bound: dict[str, int] = {}
    for spec in specs:
        if spec.name not in inputs:
            if spec.optional:
                continue
            raise InputError(f"{method}: missing input {spec.name!r} with shape {spec.describe()}")
        _check_one(method, spec, inputs[spec.name], bound)
    return bound


def _check_one(method: str, spec: InputSpec, value: Any, bound: dict[str, int]) -> None:
    where = f"{method}: input {spec.name!r}"
    if not _is_array(value):
        raise InputError(f"{where} must be a tensor with shape {spec.describe()}, got {type(value).__name__}")
    shape = tuple(int(s) for s in value.shape)
    if len(shape) != len(spec.shape):
        raise InputError(f"{where} must have rank {len(spec.shape)} with shape {spec.describe()}, "
                         f"got shape {shape} (rank {len(shape)})")
    if spec.dtype != "any":
        kind = _kind(value)
        if kind not in _DTYPE_KINDS[spec.dtype]:
            raise InputError(f"{where} must be {spec.dtype} with shape {spec.describe()}, got dtype {value.dtype}")
    for axis, (want, got) in enumerate(zip(spec.shape, shape)):
        if got < 1:
            raise InputError(f"{where}: dimension {axis} ({want}) is empty in shape {shape}; expected "
                             f"{spec.describe()} with every size >= 1")
        if isinstance(want, int):
            if got != want:
                raise InputError(f"{where}: dimension {axis} must be {want} (expected {spec.describe()}), "
                                 f"got shape {shape}")
        elif want in bound and bound[want] != got:
            raise InputError(f"{where}: dimension {axis} ({want}) is {got} but {want}={bound[want]} elsewhere "
                             f"(expected {spec.describe()})")
        else:
            bound[want] = got
    if spec.finite and _kind(value) in ("float", "complex") and not _all_finite(value):
        raise InputError(f"{where} contains NaN or Inf values (expected finite {spec.describe()})")


_TORCH_DTYPES = {"float": "float32", "long": "int64", "int": "int64", "bool": "bool"}


def convert_inputs(specs: Sequence[InputSpec], inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Turn validated ``inputs`` into torch tensors, once, before ``zoo_infer``.

    numpy arrays (and other array-likes) become tensors; a tensor of another dtype than declared is cast
    (``float64`` -> ``float32``, ``int32`` -> ``int64``); a floating tensor that already is floating (say
    ``float16`` or ``bfloat16``) keeps its dtype so that mixed precision stays possible. Inputs with dtype
    ``any`` and undeclared extras pass unchanged.
    """
    import torch

    declared = {s.name: s for s in specs}
    out: dict[str, Any] = {}
    for name, value in inputs.items():
        spec = declared.get(name)
        if spec is None or spec.dtype == "any" or not _is_array(value):
            out[name] = value
            continue
        tensor = value if isinstance(value, torch.Tensor) else torch.as_tensor(value)
        want = getattr(torch, _TORCH_DTYPES[spec.dtype])
        if spec.dtype == "float" and tensor.is_floating_point() and tensor.dtype != torch.float64:
            out[name] = tensor
        elif tensor.dtype != want:
            out[name] = tensor.to(want)
        else:
            out[name] = tensor
    return out
