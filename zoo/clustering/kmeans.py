"""k-means in torch (Lloyd's iterations) with k-means++ seeding, several restarts and a reproducible generator.

Matches scikit-learn's ``KMeans`` (``init="k-means++"``, ``n_init``, ``max_iter``, ``tol`` relative to the mean
per-feature variance, ``algorithm="lloyd"``) in what it computes: labels, centres and inertia (the sum of squared
distances of points to their centre); the best of ``n_init`` runs by inertia is returned. Empty clusters are
re-seeded with the point farthest from its centre.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from zoo.errors import InputError
from zoo.graphs.distances import check_points, pairwise_sq_dists


@dataclass
class KMeansResult:
    """``labels (n,)``, ``centers (k, d)``, ``inertia`` (sum of squared distances to the assigned centre),
    ``n_iter`` (Lloyd iterations of the returned run)."""

    labels: torch.Tensor
    centers: torch.Tensor
    inertia: float
    n_iter: int


def _generator(seed: int | torch.Generator | None) -> torch.Generator:
    if isinstance(seed, torch.Generator):
        return seed
    g = torch.Generator()
    g.manual_seed(0 if seed is None else int(seed))
    return g


def kmeans_plusplus(x: torch.Tensor, k: int, *, generator: torch.Generator | None = None,
                    n_local_trials: int | None = None) -> torch.Tensor:
    """k-means++ seeding (Arthur & Vassilvitskii 2007): the first centre uniformly at random, every next one drawn
    with probability proportional to ``D(x)^2`` (squared distance to the nearest chosen centre). As scikit-learn
    does, each step draws ``n_local_trials`` (default ``2 + log k``) candidates and keeps the one that lowers the
    potential most (greedy k-means++; ``n_local_trials=1`` is the original algorithm). Returns ``(k, d)``."""
    x = check_points(x)
    n = x.shape[0]
    if not 1 <= k <= n:
        raise InputError(f"k must be in [1, {n}], got {k}")
    g = generator or _generator(0)
    trials = n_local_trials or (2 + int(torch.log(torch.tensor(float(k))).item()))
    first = int(torch.randint(n, (1,), generator=g))
    centers = [x[first]]
    closest = pairwise_sq_dists(x, x[first:first + 1])[:, 0]
    for _ in range(1, k):
        total = float(closest.sum())
        if total <= 0:  # every point already sits on a centre: any choice is as good
            cand = torch.randint(n, (trials,), generator=g)
        else:
            cand = torch.multinomial((closest / total).cpu(), trials, replacement=True, generator=g).to(x.device)
        d_cand = pairwise_sq_dists(x, x[cand])  # (n, trials)
        pot = torch.minimum(closest[:, None], d_cand).sum(0)
        best = int(pot.argmin())
        centers.append(x[cand[best]])
        closest = torch.minimum(closest, d_cand[:, best])
    return torch.stack(centers)


def assign(x: torch.Tensor, centers: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Nearest centre of every point: ``(labels (n,), squared distance to it (n,))``."""
    d = pairwise_sq_dists(x, centers)
    dist, labels = d.min(1)
    return labels, dist


def _lloyd(x: torch.Tensor, centers: torch.Tensor, max_iter: int, tol: float) -> tuple[torch.Tensor, int]:
    k = centers.shape[0]
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        labels, dist = assign(x, centers)
        counts = torch.bincount(labels, minlength=k).to(x.dtype)
        sums = torch.zeros_like(centers).index_add_(0, labels, x)
        new = sums / counts.clamp_min(1.0)[:, None]
        empty = counts == 0
        if bool(empty.any()):  # re-seed empty clusters with the farthest points
            far = torch.argsort(dist, descending=True)[: int(empty.sum())]
            new[empty] = x[far]
        shift = float(((new - centers) ** 2).sum())
        centers = new
        if shift <= tol:
            break
    return centers, n_iter


def kmeans(
    x: torch.Tensor,
    k: int,
    *,
    n_init: int = 10,
    max_iter: int = 300,
    tol: float = 1e-4,
    init: Literal["k-means++", "random"] | torch.Tensor = "k-means++",
    seed: int | torch.Generator | None = 0,
) -> KMeansResult:
    """Cluster the rows of ``x (n, d)`` into ``k`` groups; the best of ``n_init`` seeded runs by inertia.

    ``tol`` is relative, as in scikit-learn: Lloyd stops when the squared centre shift is at most
    ``tol * mean(var(x, axis=0))``. ``init`` may be a ``(k, d)`` tensor of starting centres (then one run).
    """
    x = check_points(x)
    n = x.shape[0]
    if not 1 <= k <= n:
        raise InputError(f"k must be in [1, {n}], got {k}")
    if n_init < 1 or max_iter < 1:
        raise InputError(f"n_init and max_iter must be >= 1, got {n_init} and {max_iter}")
    g = _generator(seed)
    abs_tol = tol * float(x.var(0, unbiased=False).mean()) if n > 1 else 0.0
    best: KMeansResult | None = None
    runs = 1 if isinstance(init, torch.Tensor) else n_init
    for _ in range(runs):
        if isinstance(init, torch.Tensor):
            if init.shape != (k, x.shape[1]):
                raise InputError(f"init centres must have shape ({k}, {x.shape[1]}), got {tuple(init.shape)}")
            start = init.to(x)
        elif init == "k-means++":
            start = kmeans_plusplus(x, k, generator=g)
        elif init == "random":
            start = x[torch.randperm(n, generator=g)[:k].to(x.device)]
        else:
            raise InputError(f"init must be 'k-means++', 'random' or a tensor, got {init!r}")
        centers, n_iter = _lloyd(x, start.clone(), max_iter, abs_tol)
        labels, dist = assign(x, centers)
        inertia = float(dist.sum())
        if best is None or inertia < best.inertia:
            best = KMeansResult(labels, centers, inertia, n_iter)
    assert best is not None
    return best
