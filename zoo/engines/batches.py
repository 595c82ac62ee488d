"""Batch helpers of the trainer: datasets in, batches out, losses and metrics normalised."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from zoo.errors import ConfigError, TrainingError


def as_dataset(data: Any) -> Any:
    """Accept a map-style dataset, or a tuple/list of equally long tensors (wrapped as a TensorDataset)."""
    from torch.utils.data import TensorDataset

    if isinstance(data, (tuple, list)) and data and all(isinstance(t, torch.Tensor) for t in data):
        return TensorDataset(*data)
    if not hasattr(data, "__getitem__") or not hasattr(data, "__len__"):
        raise ConfigError(
            f"the trainer needs a map-style dataset (__getitem__ and __len__), got {type(data).__name__}"
        )
    return data


def fetch_batch(dataset: Any, indices: torch.Tensor, collate: Callable[[list[Any]], Any] | None) -> Any:
    """Gather and collate the samples at ``indices`` (TensorDatasets are indexed in one go)."""
    from torch.utils.data import TensorDataset, default_collate

    if collate is None and isinstance(dataset, TensorDataset):
        return tuple(t[indices] for t in dataset.tensors)
    items = [dataset[i] for i in indices.tolist()]
    return (collate or default_collate)(items)


def move_to(batch: Any, device: torch.device) -> Any:
    """Move every tensor inside nested tuples/lists/dicts to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        moved = {k: move_to(v, device) for k, v in batch.items()}
        try:
            return type(batch)(moved)
        except TypeError:
            return moved
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # namedtuple
        return type(batch)(*(move_to(v, device) for v in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(move_to(v, device) for v in batch)
    return batch


def batch_size_of(batch: Any, default: int) -> int:
    """Number of samples in a batch (first dimension of its first tensor)."""
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0]) if batch.dim() else default
    if isinstance(batch, Mapping):
        for value in batch.values():
            return batch_size_of(value, default)
    if isinstance(batch, (list, tuple)) and batch:
        return batch_size_of(batch[0], default)
    return default


def float_metrics(values: Mapping[str, Any]) -> dict[str, float]:
    """``{name: float}`` from a mapping of numbers or 0-d tensors."""
    return {str(k): float(v.detach().item() if isinstance(v, torch.Tensor) else v) for k, v in values.items()}


def split_loss(out: Any) -> tuple[torch.Tensor, dict[str, float]]:
    """Normalise a loss function's return value to ``(loss, extras)``."""
    if isinstance(out, torch.Tensor):
        return out, {}
    if isinstance(out, (tuple, list)) and len(out) == 2 and isinstance(out[0], torch.Tensor):
        return out[0], float_metrics(out[1])
    raise TrainingError(f"loss_fn must return a Tensor or (Tensor, dict), got {type(out).__name__}")
