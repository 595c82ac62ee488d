"""Training checkpoints: everything needed to continue a run exactly, with no pickle anywhere.

A checkpoint is a folder ``<root>/step-00000123/`` built in a temporary sibling and renamed into place
(:func:`zoo.io.atomic_directory`), so a folder that exists is complete. It holds

- ``model.safetensors``: the weights (the unwrapped model's state dict);
- ``optimizer.safetensors`` + the optimizer's non-tensor skeleton in ``state.json``;
- ``ema.safetensors`` when an EMA of the weights is kept;
- ``rng.safetensors``: torch CPU (and CUDA) generator states; Python's and NumPy's states go in
``state.json``;
- ``state.json``: step, scheduler and grad-scaler state, history, and free-form run metadata.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zoo.io import atomic_directory
from zoo.errors import TrainingError

_STEP_DIR = re.compile(r"^step-(\d+)$")
_TENSOR_KEY = "__tensor__"


def _save_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    from safetensors.torch import save_file

    # clone: safetensors refuses shared or non-contiguous storage (tied weights, views)
    save_file({k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}, str(path))


def _load_tensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    if not path.is_file():
        raise TrainingError(f"checkpoint file {path} is missing")
    return load_file(str(path))


def _split_tensors(obj: Any, prefix: str, out: dict[str, torch.Tensor]) -> Any:
    """Replace tensors inside nested dicts/lists by references, collecting them in ``out``."""
    if isinstance(obj, torch.Tensor):
        out[prefix] = obj
        return {_TENSOR_KEY: prefix}
    if isinstance(obj, dict):
        return {str(k): _split_tensors(v, f"{prefix}.{k}", out) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_split_tensors(v, f"{prefix}.{i}", out) for i, v in enumerate(obj)]
    return obj


def _join_tensors(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {_TENSOR_KEY}:
            return tensors[obj[_TENSOR_KEY]]
        return {k: _join_tensors(v, tensors) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join_tensors(v, tensors) for v in obj]
    return obj


def optimizer_to_parts(optimizer: torch.optim.Optimizer) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Split an optimizer state dict into a JSON skeleton and a flat tensor dict."""
    tensors: dict[str, torch.Tensor] = {}
    skeleton = _split_tensors(optimizer.state_dict(), "optim", tensors)
    return skeleton, tensors


def optimizer_from_parts(
    optimizer: torch.optim.Optimizer, skeleton: dict[str, Any], tensors: dict[str, torch.Tensor]
) -> None:
    """Inverse of :func:`optimizer_to_parts` (state keys back to ints, tensors put back)."""
    state = _join_tensors(skeleton, tensors)
    state["state"] = {int(k): v for k, v in state["state"].items()}
    optimizer.load_state_dict(state)


def capture_rng() -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The Python, NumPy and torch generator states (JSON part, tensor part)."""
    py_version, py_state, py_gauss = random.getstate()
    np_kind, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    meta = {
        "python": [py_version, list(py_state), py_gauss],
        "numpy": [np_kind, [int(x) for x in np_keys], int(np_pos), int(np_has_gauss), float(np_gauss)],
    }
    tensors = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"cuda.{i}"] = s
    return meta, tensors


def restore_rng(meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
    """Restore generator states captured by :func:`capture_rng`."""
    version, state, gauss = meta["python"]
    random.setstate((version, tuple(state), gauss))
    kind, keys, pos, has_gauss, cached = meta["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(tensors["torch"])
    cuda = [
        tensors[k] for k in sorted((k for k in tensors if k.startswith("cuda.")), key=lambda k: int(k[5:]))
    ]
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def _fsync_files(folder: Path) -> None:
    """Flush every file of ``folder`` to disk."""
    for child in folder.iterdir():
        if child.is_file():
            fd = os.open(child, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, torch.Tensor):
        return obj.item() if obj.numel() == 1 else obj.tolist()
    if isinstance(obj, (np.generic,)):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    return None  # callables (LambdaLR's functions) are rebuilt from the recipe, not stored


def step_dir(root: str | Path, step: int) -> Path:
    """The folder of the checkpoint taken after ``step`` optimizer steps."""
    return Path(root) / f"step-{step:08d}"


def list_checkpoints(root: str | Path) -> list[tuple[int, Path]]:
    """Complete checkpoints under ``root`` as ``(step, folder)``, oldest first."""
    folder = Path(root)
    if not folder.is_dir():
        return []
    found = []
    for child in folder.iterdir():
        match = _STEP_DIR.match(child.name)
        if match and child.is_dir() and (child / "state.json").is_file():
            found.append((int(match.group(1)), child))
    return sorted(found)


def latest_checkpoint(root: str | Path) -> Path | None:
    """The newest complete checkpoint under ``root``, or ``None``."""
    found = list_checkpoints(root)
    return found[-1][1] if found else None


def save_checkpoint(
    root: str | Path,
    step: int,
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any = None,
    ema: Any = None,
    scaler: Any = None,
    history: dict[str, list[float]] | None = None,
    meta: dict[str, Any] | None = None,
    keep: int | None = 2,
) -> Path:
    """Write the checkpoint of ``step`` atomically and prune older ones (keeping the newest ``keep``)."""
    target = step_dir(root, step)
    rng_meta, rng_tensors = capture_rng()
    state: dict[str, Any] = {
        "format": 1,
        "step": step,
        "rng": rng_meta,
        "scheduler": _jsonable(scheduler.state_dict()) if scheduler is not None else None,
        "scaler": _jsonable(scaler.state_dict()) if scaler is not None and scaler.is_enabled() else None,
        "history": history or {},
        "meta": meta or {},
        "has_ema": ema is not None,
        "optimizer": None,
    }
    with atomic_directory(target) as tmp:
        _save_tensors(tmp / "model.safetensors", model.state_dict())
        if optimizer is not None:
            skeleton, tensors = optimizer_to_parts(optimizer)
            state["optimizer"] = skeleton
            _save_tensors(tmp / "optimizer.safetensors", tensors)
        if ema is not None:
            _save_tensors(tmp / "ema.safetensors", ema.state_dict())
        _save_tensors(tmp / "rng.safetensors", rng_tensors)
        (tmp / "state.json").write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
        _fsync_files(tmp)  # the folder rename is atomic; make its content durable before it
    if keep is not None and keep > 0:
        for _, old in list_checkpoints(root)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    return target


def load_checkpoint(
    path: str | Path,
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any = None,
    ema: Any = None,
    scaler: Any = None,
    restore_rng_state: bool = True,
) -> dict[str, Any]:
    """Load a checkpoint folder into the given objects; return its ``state.json`` (step, history, meta)."""
    folder = Path(path)
    state_file = folder / "state.json"
    if not state_file.is_file():
        raise TrainingError(f"{folder} is not a checkpoint: expected {state_file}")
    state = json.loads(state_file.read_text(encoding="utf-8"))
    weights = _load_tensors(folder / "model.safetensors")
    try:
        model.load_state_dict(weights)
    except RuntimeError as exc:
        raise TrainingError(f"checkpoint {folder} does not fit this model: {exc}") from exc
    if optimizer is not None and state.get("optimizer") is not None:
        optimizer_from_parts(optimizer, state["optimizer"], _load_tensors(folder / "optimizer.safetensors"))
    if scheduler is not None and state.get("scheduler") is not None:
        sched_state = dict(state["scheduler"])
        if "lr_lambdas" in sched_state:  # the schedule functions are rebuilt from the recipe
            sched_state["lr_lambdas"] = [None] * len(sched_state["lr_lambdas"])
        scheduler.load_state_dict(sched_state)
    if ema is not None:
        if not state.get("has_ema"):
            raise TrainingError(f"checkpoint {folder} has no EMA weights but this run keeps an EMA")
        ema.load_state_dict(_load_tensors(folder / "ema.safetensors"))
    if scaler is not None and state.get("scaler") is not None and scaler.is_enabled():
        scaler.load_state_dict(state["scaler"])
    if restore_rng_state:
        restore_rng(state["rng"], _load_tensors(folder / "rng.safetensors"))
    return state
