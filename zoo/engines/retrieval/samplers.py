"""Structured batches for metric learning, as datasets of index groups the shared trainer can draw from.

The shared trainer draws items at random; a metric-learning batch needs structure (K images of each identity,
or an anchor with its positive and negatives). So each item here is a *group* of indices into a base dataset:

- :func:`pk_groups`: K images of one identity per group; a batch of P groups is the P x K re-ID batch;
- :func:`hard_negative_tuples`: CFCD-style tuples (anchor, positive, then ``tuple_size - 2`` negatives, each
  from a different class, the nearest ones to the anchor in descriptor space when descriptors are given);
- :class:`GroupedDataset` returns the stacked samples of a group and :func:`collate_groups` flattens a batch of
  groups to one batch (group members stay adjacent, in order).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from zoo.errors import InputError


def _by_label(labels: np.ndarray) -> dict[int, np.ndarray]:
    return {int(c): np.nonzero(labels == c)[0] for c in np.unique(labels)}


def pk_groups(labels: Any, k: int, rounds: int = 1, seed: int = 0) -> np.ndarray:
    """``rounds`` groups per identity, each ``k`` indices of that identity (drawn without replacement when the
    identity has ``k`` images, with replacement otherwise). Shape ``(identities * rounds, k)``."""
    labels = np.asarray(labels).reshape(-1)
    if k < 1 or rounds < 1:
        raise InputError(f"pk_groups needs k >= 1 and rounds >= 1, got k={k}, rounds={rounds}")
    rng = np.random.default_rng(seed)
    groups = []
    for _ in range(rounds):
        for members in _by_label(labels).values():
            groups.append(rng.choice(members, size=k, replace=len(members) < k))
    return np.stack(groups)


def hard_negative_tuples(labels: Any, tuple_size: int = 8, features: Any = None, seed: int = 0,
                         anchors: Sequence[int] | None = None) -> np.ndarray:
    """Tuples ``(anchor, positive, n_1 .. n_{S-2})`` as rows of an int array.

    The positive is a random other image of the anchor's class. Negatives come from ``S - 2`` distinct other
    classes: with ``features`` (N, D), the classes whose nearest image is closest to the anchor, each
    represented by that nearest image (hard negatives); without, random classes and images. Anchors default
    to every image whose class has at least two images.
    """
    labels = np.asarray(labels).reshape(-1)
    groups = _by_label(labels)
    if tuple_size < 3 or len(groups) < tuple_size - 1:
        raise InputError(f"tuples of {tuple_size} need >= 3 members and {tuple_size - 1} classes, "
                         f"got {len(groups)} classes")
    rng = np.random.default_rng(seed)
    feats = None if features is None else np.asarray(features, dtype=np.float32)
    if anchors is None:
        anchors = [i for i in range(len(labels)) if len(groups[int(labels[i])]) > 1]
    rows = []
    for a in anchors:
        c = int(labels[a])
        pos = rng.choice(groups[c][groups[c] != a])
        if feats is None:
            classes = rng.choice([o for o in groups if o != c], size=tuple_size - 2, replace=False)
            negs = [int(rng.choice(groups[int(o)])) for o in classes]
        else:
            dist = ((feats - feats[a]) ** 2).sum(1)
            dist[labels == c] = np.inf
            negs, seen = [], set()
            for j in np.argsort(dist, kind="stable"):
                if int(labels[j]) not in seen:
                    seen.add(int(labels[j]))
                    negs.append(int(j))
                    if len(negs) == tuple_size - 2:
                        break
        rows.append([a, int(pos), *negs])
    return np.asarray(rows, dtype=np.int64).reshape(-1, tuple_size)


def _stack(samples: list[Any]) -> Any:
    first = samples[0]
    if isinstance(first, dict):
        return {key: torch.stack([torch.as_tensor(s[key]) for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        return type(first)(torch.stack([torch.as_tensor(s[i]) for s in samples]) for i in range(len(first)))
    return torch.stack([torch.as_tensor(s) for s in samples])


class GroupedDataset(Dataset):
    """A dataset whose item ``i`` is the stacked samples ``base[j]`` for ``j`` in ``groups[i]``."""

    def __init__(self, base: Dataset, groups: Any) -> None:
        self.base = base
        self.groups = np.asarray(groups, dtype=np.int64)
        if self.groups.ndim != 2:
            raise InputError(f"groups must be a 2-d index array, got shape {self.groups.shape}")

    def __len__(self) -> int:
        return len(self.groups)

    def __getitem__(self, i: int) -> Any:
        return _stack([self.base[int(j)] for j in self.groups[i]])


def collate_groups(batch: list[Any]) -> Any:
    """A batch of groups (each stacked (S, ...)) -> one flat batch (B * S, ...), groups kept contiguous."""
    stacked = _stack(batch)
    if isinstance(stacked, dict):
        return {key: value.flatten(0, 1) for key, value in stacked.items()}
    if isinstance(stacked, (tuple, list)):
        return type(stacked)(value.flatten(0, 1) for value in stacked)
    return stacked.flatten(0, 1)
