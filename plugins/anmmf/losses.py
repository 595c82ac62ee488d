"""ANMMF's objective (Eq. 5) and multiplicative updates (Eq. 11, Eq. 14): the defining module.

Shapes follow the paper: ``X (D, n)`` one non-negative sample per column, ``U_i (D, m)`` bases, ``V_i (n, m)``
representations, ``L = D - W`` the graph Laplacian of the kNN heat-kernel graph ``W (n, n)``.

    O = sum_i ||X - U_i V_i^T||_F^2 + lambda_1 sum_{i<j} HSIC(V_i, V_j) + lambda_2 sum_i tr(V_i^T L V_i)

with the linear-kernel HSIC ``tr(H K_i H K_j)``, ``K_i = V_i V_i^T``, ``H = I - 11^T / n`` (the constant
``(n-1)^-2`` dropped, as the paper does before deriving the updates). For attribute ``i`` with the others fixed
the HSIC part is ``tr(V_i^T K V_i)``, ``K = sum_{j != i} H K_j H`` (Eq. 8, where the paper's "tr" is a typo), so
``dO/dV_i = 2 (V_i U_i^T U_i - X^T U_i + lambda_1 K V_i + lambda_2 L V_i)`` and, splitting ``K = K+ - K-``
(``K+- = (|K| +- K)/2``) and ``L = D - W``, the KKT conditions give

    U_i <- U_i * (X V_i) / (U_i V_i^T V_i)                                                  (Eq. 11)
    V_i <- V_i * (X^T U_i + l1 K- V_i + l2 W V_i) / (V_i U_i^T U_i + l1 K+ V_i + l2 D V_i)   (Eq. 14)
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

from zoo.graphs import degree, dirichlet_energy, matmul


def centering(n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """``H = I - 1 1^T / n``."""
    return torch.eye(n, dtype=dtype) - torch.full((n, n), 1.0 / n, dtype=dtype)


def hsic_linear(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``tr(H A A^T H B B^T) = ||A^T H B||_F^2`` (linear kernels, no ``(n-1)^-2`` factor), for ``A, B (n, m)``."""
    ac = a - a.mean(0, keepdim=True)  # H A
    bc = b - b.mean(0, keepdim=True)
    return ((ac.T @ bc) ** 2).sum()


def diversity_kernel(vs: Sequence[torch.Tensor], i: int) -> torch.Tensor:
    """``K = sum_{j != i} H V_j V_j^T H`` (n, n), the matrix of Eq. 8 for attribute ``i``."""
    others = [v - v.mean(0, keepdim=True) for j, v in enumerate(vs) if j != i]  # H V_j
    if not others:
        n = vs[i].shape[0]
        return torch.zeros(n, n, dtype=vs[i].dtype, device=vs[i].device)
    hv = torch.cat(others, 1)
    return hv @ hv.T  # sum_j (H V_j)(H V_j)^T in one product


def objective(x: torch.Tensor, us: Sequence[torch.Tensor], vs: Sequence[torch.Tensor], lap: torch.Tensor,
              lambda1: float, lambda2: float) -> dict[str, float]:
    """The terms of Eq. 5: ``{"objective", "reconstruction", "hsic", "graph"}`` (HSIC over unordered pairs)."""
    recon = sum(float(((x - u @ v.T) ** 2).sum()) for u, v in zip(us, vs))
    hsic = sum(float(hsic_linear(vs[i], vs[j])) for i in range(len(vs)) for j in range(i + 1, len(vs)))
    graph = sum(float(dirichlet_energy(lap, v)) for v in vs)
    return {"objective": recon + lambda1 * hsic + lambda2 * graph, "reconstruction": recon, "hsic": hsic,
            "graph": graph}


def update_u(x: torch.Tensor, u: torch.Tensor, v: torch.Tensor, eps: float = 1e-10,
             sqrt: bool = False) -> torch.Tensor:
    """Eq. 11: ``U * (X V) / (U V^T V)``."""
    ratio = (x @ v) / (u @ (v.T @ v) + eps)
    return u * (ratio.sqrt() if sqrt else ratio)


def update_v(x: torch.Tensor, u: torch.Tensor, v: torch.Tensor, k: torch.Tensor | None, w: torch.Tensor,
             lambda1: float, lambda2: float, eps: float = 1e-10, sqrt: bool = False) -> torch.Tensor:
    """Eq. 14 for one attribute; ``k`` is :func:`diversity_kernel` (``None`` when there is no other attribute),
    ``w`` the graph's weights, dense or sparse (its row sums give ``D``)."""
    num = x.T @ u
    den = v @ (u.T @ u)
    if lambda2:
        num = num + lambda2 * matmul(w, v)
        den = den + lambda2 * (degree(w)[:, None] * v)
    if lambda1 and k is not None:
        k_pos_v = k.clamp_min(0.0) @ v  # K+ V, K+ = (|K| + K) / 2
        k_neg_v = k_pos_v - k @ v  # K- V = (K+ - K) V
        num = num + lambda1 * k_neg_v
        den = den + lambda1 * k_pos_v
    ratio = num / (den + eps)
    return v * (ratio.sqrt() if sqrt else ratio)


def sweep(x: torch.Tensor, us: list[torch.Tensor], vs: list[torch.Tensor], w: torch.Tensor, lambda1: float,
          lambda2: float, eps: float = 1e-10, sqrt: bool = False) -> None:
    """One pass of Algorithm 1 (lines 2-6): for each attribute ``i`` in turn, Eq. 11 then Eq. 14 with the other
    attributes fixed at their newest values (in place on the lists)."""
    for i in range(len(us)):
        us[i] = update_u(x, us[i], vs[i], eps, sqrt)
        k = diversity_kernel(vs, i) if len(vs) > 1 and lambda1 else None
        vs[i] = update_v(x, us[i], vs[i], k, w, lambda1, lambda2, eps, sqrt)
