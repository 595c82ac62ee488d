"""k-nearest-neighbour graphs: neighbour indices, and dense or sparse weighted adjacency (binary, heat kernel,
cosine), symmetrised the usual ways.

Conventions: ``W[i, j] > 0`` iff ``j`` is among the ``k`` nearest neighbours of ``i`` (self excluded) before
symmetrisation; ``symmetrize="max"`` (i ~ j if either lists the other: the "or" graph that GNMF/LPP use),
``"min"`` (mutual kNN), ``"mean"`` ((W + W^T)/2) or ``None`` (the directed graph).
"""
from __future__ import annotations

from typing import Literal

import torch

from zoo.errors import InputError
from zoo.graphs.distances import check_points, pairwise_sq_dists

Weighting = Literal["binary", "heat", "cosine"]
Symmetrize = Literal["max", "min", "mean"] | None


def knn_indices(x: torch.Tensor, k: int, *, include_self: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` nearest neighbours of every row of ``x (n, d)``: ``(indices (n, k), squared distances (n, k))``,
    nearest first. With ``include_self`` a point counts as its own first neighbour (distance 0)."""
    x = check_points(x)
    n = x.shape[0]
    limit = n if include_self else n - 1
    if not 1 <= k <= limit:
        raise InputError(f"k must be in [1, {limit}] for {n} points, got {k}")
    d = pairwise_sq_dists(x)
    if not include_self:
        d = d.clone()
        d.fill_diagonal_(float("inf"))
    else:
        d = d.clone()
        d.fill_diagonal_(-1.0)  # a point is its own nearest neighbour even with duplicates
    dist, idx = torch.topk(d, k, dim=1, largest=False, sorted=True)
    return idx, dist.clamp_min(0.0)


def heat_kernel(sq_dists: torch.Tensor, t: float) -> torch.Tensor:
    """``exp(-||x_i - x_j||^2 / t)`` (GNMF's heat kernel; LPP/FPSORA write ``t = 2 sigma^2``)."""
    if t <= 0:
        raise InputError(f"heat kernel width t must be positive, got {t}")
    return torch.exp(-sq_dists / t)


def symmetrize(w: torch.Tensor, how: Symmetrize) -> torch.Tensor:
    """Make a dense directed weight matrix symmetric (see the module docstring)."""
    if how is None:
        return w
    if how == "max":
        return torch.maximum(w, w.T)
    if how == "min":
        return torch.minimum(w, w.T)
    if how == "mean":
        return 0.5 * (w + w.T)
    raise InputError(f"symmetrize must be 'max', 'min', 'mean' or None, got {how!r}")


def knn_graph(
    x: torch.Tensor,
    k: int,
    *,
    weighting: Weighting = "binary",
    t: float | None = None,
    symmetrize_with: Symmetrize = "max",
    sparse: bool = False,
) -> torch.Tensor:
    """Weighted kNN adjacency ``W (n, n)`` of the rows of ``x``.

    Args:
        k: neighbours per point (self excluded).
        weighting: ``binary`` (1 on edges), ``heat`` (``exp(-||x_i - x_j||^2 / t)``) or ``cosine``
            (``x_i . x_j / (|x_i| |x_j|)``, the "dot-product weighting" of GNMF on normalised data).
        t: heat-kernel width; ``None`` uses the mean squared distance over the kNN edges (a common default).
        symmetrize_with: ``max`` / ``min`` / ``mean`` / ``None`` (see the module docstring).
        sparse: return a coalesced ``torch.sparse_coo_tensor`` instead of a dense matrix.
    """
    x = check_points(x)
    n = x.shape[0]
    idx, dist = knn_indices(x, k)
    if weighting == "binary":
        vals = torch.ones_like(dist)
    elif weighting == "heat":
        width = float(dist.mean()) if t is None else t
        vals = heat_kernel(dist, width if width > 0 else 1.0)
    elif weighting == "cosine":
        xn = x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)
        vals = (xn[:, None, :] * xn[idx]).sum(-1)
    else:
        raise InputError(f"weighting must be 'binary', 'heat' or 'cosine', got {weighting!r}")
    w = torch.zeros(n, n, dtype=x.dtype, device=x.device)
    w.scatter_(1, idx, vals)
    w = symmetrize(w, symmetrize_with)
    return w.to_sparse().coalesce() if sparse else w
