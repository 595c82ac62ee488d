"""Graph Laplacians of a weighted adjacency ``W`` (dense, or torch sparse COO), and the normalised adjacency of GCN.

=====================  ==========================================  ========================================
``normalization``      matrix                                      note
=====================  ==========================================  ========================================
``None``               ``L = D - W``                               ``y^T L y = 1/2 sum_ij w_ij (y_i - y_j)^2``
``"sym"``              ``I - D^-1/2 W D^-1/2``                     eigenvalues in [0, 2]
``"rw"``               ``I - D^-1 W``                              random-walk Laplacian
=====================  ==========================================  ========================================

``D = diag(sum_j w_ij)`` (row sums). Isolated nodes (degree 0) get ``D^-1/2 = 0`` (as networkx does).
"""
from __future__ import annotations

from typing import Literal

import torch

from zoo.errors import InputError
from zoo.graphs.sparse import diag_matrix, is_sparse, row_sums, scale_rows_cols

Normalization = Literal["sym", "rw"] | None


def check_square(w: torch.Tensor, name: str = "W") -> None:
    """Raise :class:`InputError` unless ``w`` is a square 2-D matrix."""
    if w.dim() != 2 or w.shape[0] != w.shape[1]:
        raise InputError(f"{name} must be a square (n, n) matrix, got shape {tuple(w.shape)}")


def degree(w: torch.Tensor) -> torch.Tensor:
    """Node degrees ``d_i = sum_j w_ij`` (row sums) of a dense or sparse adjacency."""
    check_square(w)
    return row_sums(w)


def inv_sqrt_degree(d: torch.Tensor) -> torch.Tensor:
    """``d^-1/2`` with 0 where ``d == 0``."""
    safe = torch.where(d > 0, d, torch.ones_like(d))
    return torch.where(d > 0, safe.rsqrt(), torch.zeros_like(d))


def laplacian(w: torch.Tensor, normalization: Normalization = None) -> torch.Tensor:
    """The graph Laplacian of ``W`` (see the module table); sparse in, sparse out."""
    check_square(w)
    d = degree(w)
    n = w.shape[0]
    if normalization is None:
        return diag_matrix(d, sparse=is_sparse(w)) - w
    if normalization == "sym":
        s = inv_sqrt_degree(d)
        return diag_matrix((d > 0).to(w.dtype), sparse=is_sparse(w)) - scale_rows_cols(w, s, s)
    if normalization == "rw":
        inv = torch.where(d > 0, 1.0 / torch.where(d > 0, d, torch.ones_like(d)), torch.zeros_like(d))
        ones = torch.ones(n, dtype=w.dtype, device=w.device)
        return diag_matrix((d > 0).to(w.dtype), sparse=is_sparse(w)) - scale_rows_cols(w, inv, ones)
    raise InputError(f"normalization must be None, 'sym' or 'rw', got {normalization!r}")


def normalized_adjacency(a: torch.Tensor, *, self_loops: bool = True) -> torch.Tensor:
    """GCN's propagation matrix ``D~^-1/2 (A + I) D~^-1/2`` (``self_loops=False``: ``D^-1/2 A D^-1/2``)."""
    check_square(a, "A")
    if self_loops:
        a = a + diag_matrix(torch.ones(a.shape[0], dtype=a.dtype, device=a.device), sparse=is_sparse(a))
        if is_sparse(a):
            a = a.coalesce()
    s = inv_sqrt_degree(degree(a))
    return scale_rows_cols(a, s, s)


def dirichlet_energy(lap: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``tr(Y^T L Y)`` for node signals ``Y (n, c)`` (GNMF's ``tr(V^T L V)``, LPP's ``tr(P^T X L X^T P)``)."""
    ly = torch.sparse.mm(lap, y) if is_sparse(lap) else lap @ y
    return (y * ly).sum()
