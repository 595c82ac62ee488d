"""Robust multi-view k-means (RMKMC; Cai, Nie & Huang, IJCAI 2013): one cluster indicator shared by all views,
per-view centroids, an L2,1 (robust) loss and learned view weights.

    min_{F_v, G, alpha}  sum_v alpha_v^gamma || X_v - G F_v^T ||_{2,1},   G a cluster indicator,  sum_v alpha_v = 1

(rows are samples; the L2,1 norm sums the per-sample residual norms). Alternating updates, each non-increasing:
``D_v = diag(1 / (2 ||e_i^v||))``; ``F_v = X_v^T D_v G (G^T D_v G)^-1`` (weighted centroids); each sample takes the
cluster ``k`` minimising ``sum_v alpha_v^gamma d_i^v ||x_i^v - f_k^v||^2``; ``alpha_v`` proportional to
``(gamma H_v)^(1 / (1 - gamma))`` with ``H_v`` the view's L2,1 residual. ANMMF clusters its attribute
representations with it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from zoo.clustering.kmeans import kmeans
from zoo.errors import InputError
from zoo.graphs.distances import check_points, pairwise_sq_dists


@dataclass
class MultiViewKMeansResult:
    """``labels (n,)``, ``centers`` (one ``(k, d_v)`` per view), ``view_weights (V,)`` (alpha), ``objective``
    (final value of the RMKMC objective) and ``history`` (objective per iteration)."""

    labels: torch.Tensor
    centers: list[torch.Tensor]
    view_weights: torch.Tensor
    objective: float
    history: list[float]


def _residual_norms(views: Sequence[torch.Tensor], centers: Sequence[torch.Tensor], labels: torch.Tensor
                    ) -> list[torch.Tensor]:
    return [(x - f[labels]).norm(dim=1) for x, f in zip(views, centers)]


def multiview_kmeans(
    views: Sequence[torch.Tensor],
    k: int,
    *,
    gamma: float = 2.0,
    max_iter: int = 100,
    tol: float = 1e-6,
    eps: float = 1e-10,
    seed: int = 0,
    n_init: int = 10,
) -> MultiViewKMeansResult:
    """RMKMC on ``views`` (each ``(n, d_v)``); initialised with k-means on the concatenated views (``n_init``
    restarts); ``gamma > 1`` flattens the view weights as it grows."""
    if not views:
        raise InputError("multiview_kmeans needs at least one view")
    views = [check_points(v, f"view {i}") for i, v in enumerate(views)]
    n = views[0].shape[0]
    if any(v.shape[0] != n for v in views):
        raise InputError(f"every view needs the same number of rows; got {[v.shape[0] for v in views]}")
    if gamma <= 1:
        raise InputError(f"gamma must be > 1, got {gamma}")
    dtype = views[0].dtype
    views = [v.to(dtype) for v in views]
    labels = kmeans(torch.cat(views, 1), k, n_init=n_init, seed=seed).labels
    alpha = torch.full((len(views),), 1.0 / len(views), dtype=dtype)
    centers = [torch.zeros(k, v.shape[1], dtype=dtype) for v in views]
    d = [torch.ones(n, dtype=dtype) for _ in views]
    history: list[float] = []
    for _ in range(max_iter):
        onehot = torch.nn.functional.one_hot(labels, k).to(dtype)  # G (n, k)
        for v, x in enumerate(views):  # F_v = X_v^T D_v G (G^T D_v G)^-1: D_v-weighted cluster means
            mass = onehot.T @ d[v]
            sums = onehot.T @ (d[v][:, None] * x)
            filled = mass > 0
            centers[v] = torch.where(filled[:, None], sums / mass.clamp_min(eps)[:, None], centers[v])
        weight = alpha ** gamma
        cost = sum(weight[v] * d[v][:, None] * pairwise_sq_dists(x, centers[v]) for v, x in enumerate(views))
        labels = cost.argmin(1)
        res = _residual_norms(views, centers, labels)
        h = torch.stack([r.sum() for r in res])
        raw = (gamma * h.clamp_min(eps)) ** (1.0 / (1.0 - gamma))
        alpha = raw / raw.sum()
        d = [1.0 / (2.0 * r.clamp_min(eps)) for r in res]
        objective = float(((alpha ** gamma) * h).sum())
        history.append(objective)
        if len(history) > 1 and abs(history[-2] - history[-1]) <= tol * max(1.0, abs(history[-2])):
            break
    return MultiViewKMeansResult(labels, centers, alpha, history[-1], history)
