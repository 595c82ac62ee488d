"""FPSORA's two steps: the optimal re-weighting of each sample's kNN adjacency (a QP with one equality
constraint, Eq. 6-9) and the flexible projection search (Eq. 10-11), with the objective they decrease (Eq. 3, 12).

Conventions: ``Y (n, d)`` holds the projected samples as rows (the paper's ``Y = P^T X`` transposed), ``nbrs
(n, k)`` the fixed original-space neighbours, ``M = Y Y^T`` the Gram matrix the paper calls ``X^T P P^T X``.

Step 1 (Eq. 6-9), for each sample ``i`` with projected squared distances ``d_ij`` to its neighbours:
``min 1/2 sum_j mu_ij^2 d_ij  s.t.  sum_j mu_ij = 1``; stationarity ``Lambda_i mu_i + lambda e = 0`` plus the
constraint is the (k+1) x (k+1) system ``A x = b`` (Eq. 9), whose solution is ``mu_ij = (1 / d_ij) / sum_l (1 / d_il)``.
The graph weights of sample ``i`` become ``mu_ij^2`` (the objective's weights), giving ``L_o``.

Step 2 (Eq. 11): ``M_t = (L_A^1/2)^+ L_o^1/2 M_{t-1} L_o^1/2 (L_A^1/2)^+``, i.e. ``Y_t = (L_A^1/2)^+ L_o^1/2 Y_{t-1}``;
then ``tr(Y_t^T L_A Y_t) = tr(Y_{t-1}^T L_o Y_{t-1}) <= tr(Y_{t-1}^T L_A Y_{t-1})`` (Eq. 12).

``L_A`` is the Laplacian of the original heat-kernel weights scaled per sample to ``w_ij / C_i^2``,
``C_i = sum_j sqrt(w_ij)`` (so ``sqrt(w_ij) / C_i`` is a feasible ``mu``, Lemma 1). The directed kNN weights are
symmetrised as ``(A + A^T) / 2``, which keeps ``tr(Y^T L Y) = 1/2 sum_ij a_ij ||y_i - y_j||^2``.
"""
from __future__ import annotations

import torch

from zoo.graphs import laplacian, pinv_sqrt, psd_sqrt


def neighbour_sq_dists(y: torch.Tensor, nbrs: torch.Tensor) -> torch.Tensor:
    """``d_ij = ||y_i - y_j||^2`` for each sample ``i`` and its neighbours ``j = nbrs[i]``: ``(n, k)``."""
    return ((y[:, None, :] - y[nbrs]) ** 2).sum(-1)


def kkt_system(d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. 9 for a batch of samples: ``A (n, k+1, k+1) = [[diag(d), e], [e^T, 0]]`` and ``b (n, k+1) = (0, ..., 0,
    1)``; the solution is ``(mu, lambda)``."""
    n, k = d.shape
    a = torch.zeros(n, k + 1, k + 1, dtype=d.dtype, device=d.device)
    a[:, :k, :k] = torch.diag_embed(d)
    a[:, :k, k] = 1.0
    a[:, k, :k] = 1.0
    b = torch.zeros(n, k + 1, dtype=d.dtype, device=d.device)
    b[:, k] = 1.0
    return a, b


def optimal_weights(d: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Closed-form solution of Eq. 6 per sample: ``mu_ij = (1 / d_ij) / sum_l (1 / d_il)`` (``d + eps``)."""
    inv = 1.0 / (d + eps)
    return inv / inv.sum(1, keepdim=True)


def weights_to_laplacian(values: torch.Tensor, nbrs: torch.Tensor) -> torch.Tensor:
    """Laplacian of the kNN graph carrying ``values[i, j]`` on edge ``i -> nbrs[i, j]``, symmetrised
    ``(A + A^T) / 2``."""
    n = values.shape[0]
    a = torch.zeros(n, n, dtype=values.dtype, device=values.device)
    a.scatter_(1, nbrs, values)
    return laplacian(0.5 * (a + a.T))


def anchor_laplacian(heat: torch.Tensor, nbrs: torch.Tensor) -> torch.Tensor:
    """``L_A``: the original heat-kernel weights rescaled per sample to ``w_ij / C_i^2``, ``C_i = sum_j
    sqrt(w_ij)`` (Sect. 3.2)."""
    c = heat.sqrt().sum(1, keepdim=True)
    return weights_to_laplacian(heat / c ** 2, nbrs)


def graph_objective(y: torch.Tensor, lap: torch.Tensor) -> float:
    """``tr(P^T X L X^T P) = tr(Y^T L Y)`` (Eq. 3)."""
    return float((y * (lap @ y)).sum())


def reweight(y: torch.Tensor, nbrs: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Step 1: ``L_o`` from the optimal weights ``mu^2`` at the current projection."""
    mu = optimal_weights(neighbour_sq_dists(y, nbrs), eps)
    return weights_to_laplacian(mu ** 2, nbrs)


def project(y: torch.Tensor, lap_o: torch.Tensor, anchor_pinv_sqrt: torch.Tensor) -> torch.Tensor:
    """Step 2 (Eq. 11): ``Y_t = (L_A^1/2)^+ L_o^1/2 Y_{t-1}``, so that ``M_t = Y_t Y_t^T`` is the paper's metric."""
    return anchor_pinv_sqrt @ (psd_sqrt(lap_o) @ y)


def fpsora_iterations(y0: torch.Tensor, nbrs: torch.Tensor, lap_a: torch.Tensor, max_iter: int, tol: float = 0.0,
                      eps: float = 1e-12, rcond: float = 1e-9) -> tuple[torch.Tensor, list[float]]:
    """Alternate the two steps from ``Y_0``; returns ``(Y_T, [tr(Y_t^T L_A Y_t) for t = 0..T])``."""
    a_pinv = pinv_sqrt(lap_a, rcond=rcond)
    y = y0
    history = [graph_objective(y, lap_a)]
    for _ in range(max_iter):
        y = project(y, reweight(y, nbrs, eps), a_pinv)
        history.append(graph_objective(y, lap_a))
        if history[-2] > 0 and (history[-2] - history[-1]) < tol * history[-2]:
            break
    return y, history
