"""ISTA and FISTA for the LASSO ``min_z 1/2 ||x - D z||^2 + lam ||z||_1``, batched over the rows of ``x``.

The classical iterative baselines of learned sparse coding (LISTA and its variants) and the solvers that produce
their target codes. ``x`` is ``[B, n]``, the dictionary ``D`` is ``[n, m]``, codes are ``[B, m]``; the step is
``1 / L`` with ``L = ||D||_2^2`` (the Lipschitz constant of the smooth part's gradient).
"""
from __future__ import annotations

import torch

from zoo.prox.soft import soft_threshold


def lipschitz(dictionary: torch.Tensor) -> float:
    """``L = ||D||_2^2``, the largest eigenvalue of ``D^T D``."""
    return float(torch.linalg.matrix_norm(dictionary, ord=2) ** 2)


def lasso_cost(x: torch.Tensor, dictionary: torch.Tensor, z: torch.Tensor, lam: float) -> torch.Tensor:
    """``1/2 ||x - D z||^2 + lam ||z||_1`` per row (``[B]``)."""
    residual = x - z @ dictionary.T
    return 0.5 * (residual**2).sum(1) + lam * z.abs().sum(1)


def ista(x: torch.Tensor, dictionary: torch.Tensor, lam: float, iterations: int,
         z0: torch.Tensor | None = None) -> torch.Tensor:
    """``iterations`` ISTA steps ``z <- h_{lam/L}(z + D^T (x - D z) / L)`` from ``z0`` (default 0)."""
    step = 1.0 / lipschitz(dictionary)
    z = torch.zeros(x.shape[0], dictionary.shape[1], dtype=x.dtype, device=x.device) if z0 is None else z0
    for _ in range(iterations):
        z = soft_threshold(z + step * (x - z @ dictionary.T) @ dictionary, lam * step)
    return z


def fista(x: torch.Tensor, dictionary: torch.Tensor, lam: float, iterations: int,
          z0: torch.Tensor | None = None) -> torch.Tensor:
    """``iterations`` FISTA steps (Beck & Teboulle 2009): ISTA at an extrapolated point with momentum
    ``(t_k - 1) / t_{k+1}``, ``t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2``."""
    step = 1.0 / lipschitz(dictionary)
    z = torch.zeros(x.shape[0], dictionary.shape[1], dtype=x.dtype, device=x.device) if z0 is None else z0
    y, t = z, 1.0
    for _ in range(iterations):
        z_next = soft_threshold(y + step * (x - y @ dictionary.T) @ dictionary, lam * step)
        t_next = (1 + (1 + 4 * t * t) ** 0.5) / 2
        y = z_next + ((t - 1) / t_next) * (z_next - z)
        z, t = z_next, t_next
    return z
