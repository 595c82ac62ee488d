"""Functions of symmetric positive semi-definite matrices (Laplacians, Gram matrices) through one eigendecomposition:
real powers, square roots and pseudo-inverse square roots, with eigenvalues below a relative cut-off treated as 0."""
from __future__ import annotations

import torch

from zoo.errors import InputError
from zoo.graphs.sparse import to_dense


def psd_power(m: torch.Tensor, p: float, *, rcond: float = 1e-10) -> torch.Tensor:
    """``M^p`` of a symmetric PSD matrix on its range: eigenvalues ``<= rcond * max|lambda|`` count as 0, and stay
    0 for negative ``p`` (so ``p = -1`` is the Moore-Penrose pseudo-inverse, ``p = -1/2`` that of ``M^1/2``)."""
    m = to_dense(m)
    if m.dim() != 2 or m.shape[0] != m.shape[1]:
        raise InputError(f"expected a square symmetric matrix, got shape {tuple(m.shape)}")
    sym = 0.5 * (m + m.T)
    vals, vecs = torch.linalg.eigh(sym)
    cut = rcond * float(vals.abs().max()) if vals.numel() else 0.0
    keep = vals > cut
    safe = torch.where(keep, vals, torch.ones_like(vals))
    powered = torch.where(keep, safe.pow(p), torch.zeros_like(vals))
    return (vecs * powered[None, :]) @ vecs.T


def psd_sqrt(m: torch.Tensor, *, rcond: float = 1e-10) -> torch.Tensor:
    """The principal square root ``M^1/2`` of a symmetric PSD matrix."""
    return psd_power(m, 0.5, rcond=rcond)


def pinv_sqrt(m: torch.Tensor, *, rcond: float = 1e-10) -> torch.Tensor:
    """``(M^1/2)^+``: the pseudo-inverse of the square root of a symmetric PSD matrix (rank-deficient Laplacians)."""
    return psd_power(m, -0.5, rcond=rcond)
