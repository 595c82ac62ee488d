"""The log penalty ``lam * log(1 + |a| / eps)`` and its proximal operator (LOG-PBCD, PRCV 2021 Eq. 16-17).

Two operators:

- :func:`log_threshold` is the paper's closed form (Eq. 17) with ``lam = lambda / delta``::

      a = ((x - eps) + sqrt((x + eps)^2 - 4 lam)) / 2    if x >  x0
      a = ((x + eps) - sqrt((x - eps)^2 - 4 lam)) / 2    if x < -x0          x0 = sqrt(4 lam) - eps
      a = 0                                              otherwise

  It returns the larger stationary point of the prox objective as soon as it exists. That point is the global
  minimiser far from the threshold, but not everywhere: for ``x`` just above ``x0`` the objective at 0 can be
  lower (non-convex case ``lam > eps^2``), and when ``lam < eps^2`` the formula can even return a value of the
  wrong sign for ``x0 < x < lam / eps``.
- :func:`prox_log` is the exact global minimiser: it compares the objective at that stationary point with the
  objective at 0. Use it where exactness matters; :func:`log_threshold` reproduces the paper.
"""
from __future__ import annotations

import torch

Param = float | torch.Tensor


def log_penalty(a: torch.Tensor, lam: Param, eps: Param) -> torch.Tensor:
    """``lam * log(1 + |a| / eps)`` elementwise (``G(A)`` of LOG-PBCD, scaled by ``lam``)."""
    return lam * torch.log1p(a.abs() / eps)


def log_objective(a: torch.Tensor, x: torch.Tensor, lam: Param, eps: Param) -> torch.Tensor:
    """The prox objective ``1/2 (a - x)^2 + lam * log(1 + |a| / eps)`` (Eq. 16 divided by ``delta``)."""
    return 0.5 * (a - x) ** 2 + log_penalty(a, lam, eps)


def _stationary(x: torch.Tensor, lam: Param, eps: Param) -> tuple[torch.Tensor, torch.Tensor]:
    """The larger-magnitude stationary point on the side of ``sign(x)`` and whether it exists (real roots)."""
    ax = x.abs()
    disc = (ax + eps) ** 2 - 4 * lam
    root = 0.5 * ((ax - eps) + torch.sqrt(torch.clamp(disc, min=0.0)))
    return torch.sign(x) * root, disc >= 0


def log_threshold(x: torch.Tensor, lam: Param, eps: Param) -> torch.Tensor:
    """The paper's log-thresholding operator ``prox_{log, lam}`` (Eq. 17; ``lam`` stands for ``lambda/delta``)."""
    x0 = 2 * torch.sqrt(torch.as_tensor(lam, dtype=x.dtype)) - eps
    point, _ = _stationary(x, lam, eps)
    return torch.where(x.abs() > x0, point, torch.zeros_like(x))


def prox_log(x: torch.Tensor, lam: Param, eps: Param) -> torch.Tensor:
    """The exact proximal operator ``argmin_a 1/2 (a - x)^2 + lam log(1 + |a|/eps)`` elementwise.

    The minimiser has the sign of ``x``; on that half-line it is either 0 or the larger root of
    ``a^2 + (eps - |x|) a + lam - |x| eps = 0`` (the only local minimum away from 0). The root is taken when it is
    positive and its objective is strictly below the objective at 0.
    """
    point, real = _stationary(x, lam, eps)
    zero = torch.zeros_like(x)
    better = real & (point * torch.sign(x) > 0) & (log_objective(point, x, lam, eps) < log_objective(zero, x, lam, eps))
    return torch.where(better, point, zero)
