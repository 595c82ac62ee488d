"""Distances between sample sets for judging generators: exact empirical Wasserstein-1.

``wasserstein1(a, b)`` between two equally sized point clouds is an optimal assignment (every empirical measure
with n equally weighted atoms has an optimal transport plan that is a permutation), solved exactly by
``scipy.optimize.linear_sum_assignment``. ``wasserstein1_1d`` is the closed form for scalars (Eq. 6 of QR-GAN:
the mean absolute difference of the sorted samples).
"""
from __future__ import annotations

import torch

from zoo.errors import ConfigError

__all__ = ["wasserstein1", "wasserstein1_1d"]


def wasserstein1(a: torch.Tensor, b: torch.Tensor, p: float = 2.0) -> float:
    """Exact W1 between the empirical measures of ``a [n, d]`` and ``b [n, d]`` with ground cost
    ``||x - y||_p`` (``p=2``: Euclidean; ``p=1``: the L1 cost of QR-GAN's Eq. 3)."""
    if a.dim() != 2 or b.dim() != 2 or a.shape != b.shape:
        raise ConfigError(f"wasserstein1 needs two [n, d] sets of the same size, got {tuple(a.shape)} and "
                          f"{tuple(b.shape)}")
    from scipy.optimize import linear_sum_assignment

    cost = torch.cdist(a.double(), b.double(), p=p)
    rows, cols = linear_sum_assignment(cost.numpy())
    return float(cost[torch.as_tensor(rows), torch.as_tensor(cols)].mean())


def wasserstein1_1d(a: torch.Tensor, b: torch.Tensor) -> float:
    """W1 between two equally sized sets of scalars: ``mean |sort(a) - sort(b)|``."""
    a, b = a.flatten(), b.flatten()
    if a.numel() != b.numel() or a.numel() == 0:
        raise ConfigError(f"wasserstein1_1d needs two non-empty sets of the same size, got {a.numel()} and "
                          f"{b.numel()}")
    return float((a.sort().values.double() - b.sort().values.double()).abs().mean())
