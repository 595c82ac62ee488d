"""Pairwise squared Euclidean distances, the primitive under kNN graphs, heat kernels, k-means and mean-shift."""
from __future__ import annotations

import torch

from zoo.errors import InputError


def check_points(x: torch.Tensor, name: str = "x") -> torch.Tensor:
    """``x`` as a floating ``(n, d)`` tensor; raise :class:`InputError` if it is not 2-D, empty or not finite."""
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(x)
    if x.dim() != 2:
        raise InputError(f"{name} must be a 2-D (n, d) tensor of points, got shape {tuple(x.shape)}")
    if x.shape[0] == 0:
        raise InputError(f"{name} has no points")
    if not x.is_floating_point():
        x = x.to(torch.get_default_dtype())
    if not bool(torch.isfinite(x).all()):
        raise InputError(f"{name} has NaN or Inf values")
    return x


def pairwise_sq_dists(x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """``D[i, j] = ||x_i - y_j||^2`` for ``x (n, d)`` and ``y (m, d)`` (``y = x`` if omitted).

    Computed as ``|x|^2 + |y|^2 - 2 x y^T`` (one GEMM), clamped at 0; when ``y`` is omitted the diagonal is
    exactly 0 and the result exactly symmetric.
    """
    same = y is None
    y = x if y is None else y
    if x.shape[-1] != y.shape[-1]:
        raise InputError(f"points have {x.shape[-1]} and {y.shape[-1]} features; they must match")
    xx = (x * x).sum(-1)
    yy = xx if same else (y * y).sum(-1)
    d = (xx[:, None] + yy[None, :] - 2.0 * (x @ y.T)).clamp_min_(0.0)
    if same:
        d = 0.5 * (d + d.T)
        d.fill_diagonal_(0.0)
    return d
