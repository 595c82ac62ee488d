"""Hypergraphs as incidence matrices, and the normalised hypergraph operators of Zhou et al. (2006) / HGNN.

A hypergraph on ``n`` vertices with ``m`` hyperedges is an incidence matrix ``H (n, m)`` (``h(v, e) > 0`` iff
``v`` is in ``e``; values in [0, 1] weigh a vertex inside an edge) and hyperedge weights ``w (m,)`` (default 1).

- vertex degree ``d(v) = sum_e w(e) h(v, e)``; hyperedge degree ``delta(e) = sum_v h(v, e)``;
- propagation ``Theta = Dv^-1/2 H W De^-1 H^T Dv^-1/2`` (HGNN's ``G``; eigenvalues in [0, 1]);
- Laplacian ``Delta = I - Theta`` (positive semi-definite);
- higher order (HybridHGCN): for a square ``H`` (one hyperedge spawned by each vertex) ``H^(k) = H^k``, and
  ``Theta^(k)`` is the propagation built from ``H^(k)`` with its own degree matrices.

Degree-0 vertices or hyperedges get 0 in the inverse degree matrices (they neither send nor receive).
"""
from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence

import torch

from zoo.errors import InputError
from zoo.graphs.distances import check_points, pairwise_sq_dists
from zoo.graphs.laplacian import inv_sqrt_degree
from zoo.graphs.sparse import col_sums, is_sparse, matmul, row_sums, scale_rows_cols, to_dense, transpose


def incidence_from_hyperedges(edges: Sequence[Iterable[int]], num_nodes: int, *,
                              dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``H (num_nodes, len(edges))`` with ``H[v, e] = 1`` iff vertex ``v`` is in hyperedge ``e``."""
    h = torch.zeros(num_nodes, len(edges), dtype=dtype)
    for e, members in enumerate(edges):
        members = list(members)
        if not members:
            raise InputError(f"hyperedge {e} is empty")
        if min(members) < 0 or max(members) >= num_nodes:
            raise InputError(f"hyperedge {e} names vertices outside [0, {num_nodes}): {members}")
        h[members, e] = 1.0
    return h


def incidence_from_adjacency(adjacency: torch.Tensor) -> torch.Tensor:
    """One hyperedge per vertex ``e``: ``e`` itself and every vertex adjacent to it, ``H = [A + I > 0]`` (n, n).

    This is how HGNN and HybridHGCN turn a citation graph into a hypergraph (hyperedge ``e`` is centred on
    vertex ``e``; for a directed ``A`` the members of hyperedge ``e`` are the ``v`` with ``A[v, e] != 0``).
    """
    a = to_dense(adjacency)
    if a.dim() != 2 or a.shape[0] != a.shape[1]:
        raise InputError(f"adjacency must be square (n, n), got {tuple(a.shape)}")
    eye = torch.eye(a.shape[0], dtype=torch.bool, device=a.device)
    dtype = a.dtype if a.is_floating_point() else torch.float32
    return ((a != 0) | eye).to(dtype)


def knn_incidence(x: torch.Tensor, k: int, *, weighting: str = "heat", delta: float | None = None) -> torch.Tensor:
    """HGNN's kNN hypergraph of feature vectors ``x (n, d)``: hyperedge ``e`` = vertex ``e`` and its ``k`` nearest
    neighbours (so ``k + 1`` members), ``H (n, n)``.

    ``weighting="heat"`` gives HybridHGCN's Eq. 10, ``h(v, e) = exp(-2 D_ve^2 / Delta)`` with ``D`` the Euclidean
    distance and ``Delta`` the average pairwise distance over all vertex pairs (or ``delta`` when given);
    ``"binary"`` gives 1 on members.
    """
    x = check_points(x)
    n = x.shape[0]
    if not 1 <= k <= n - 1:
        raise InputError(f"k must be in [1, {n - 1}] for {n} points, got {k}")
    sq = pairwise_sq_dists(x)
    ranked = sq.clone()
    ranked.fill_diagonal_(-1.0)  # the centre is always a member of its own hyperedge
    idx = torch.topk(ranked, k + 1, dim=1, largest=False).indices  # (n, k + 1): members of hyperedge e = row e
    if weighting == "binary":
        vals = torch.ones(n, k + 1, dtype=x.dtype, device=x.device)
    elif weighting == "heat":
        if delta is None:
            off = ~torch.eye(n, dtype=torch.bool, device=x.device)
            delta = float(sq.sqrt()[off].mean()) if n > 1 else 1.0
        if delta <= 0:
            raise InputError(f"delta must be positive, got {delta}")
        vals = torch.exp(-2.0 * sq.gather(1, idx) / delta)
    else:
        raise InputError(f"weighting must be 'heat' or 'binary', got {weighting!r}")
    h = torch.zeros(n, n, dtype=x.dtype, device=x.device)
    h.scatter_(1, idx, vals)  # row e holds hyperedge e's members ...
    return h.T.contiguous()  # ... and H is vertices x hyperedges


def _weights(h: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
    m = h.shape[1]
    if w is None:
        return torch.ones(m, dtype=h.dtype, device=h.device)
    if w.shape != (m,):
        raise InputError(f"hyperedge weights must have shape ({m},), got {tuple(w.shape)}")
    if bool((w < 0).any()):
        raise InputError("hyperedge weights must be non-negative")
    return w.to(h.dtype)


def hypergraph_degrees(h: torch.Tensor, w: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(d_v (n,), delta_e (m,))``: weighted vertex degrees and hyperedge degrees (see the module docstring)."""
    if h.dim() != 2:
        raise InputError(f"incidence matrix must be 2-D (n, m), got shape {tuple(h.shape)}")
    w = _weights(h, w)
    dv = row_sums(scale_rows_cols(h, torch.ones(h.shape[0], dtype=h.dtype, device=h.device), w))
    de = col_sums(h)
    return dv, de


def hypergraph_propagation(h: torch.Tensor, w: torch.Tensor | None = None) -> torch.Tensor:
    """``Theta = Dv^-1/2 H W De^-1 H^T Dv^-1/2`` (n, n), dense (or sparse when ``H`` is sparse)."""
    w = _weights(h, w)
    dv, de = hypergraph_degrees(h, w)
    sv = inv_sqrt_degree(dv)
    inv_de = torch.where(de > 0, 1.0 / torch.where(de > 0, de, torch.ones_like(de)), torch.zeros_like(de))
    left = scale_rows_cols(h, sv, w * inv_de)  # Dv^-1/2 H W De^-1   (n, m)
    right = scale_rows_cols(h, sv, torch.ones_like(de))  # Dv^-1/2 H      (n, m)
    if is_sparse(h):
        with warnings.catch_warnings():  # sparse x sparse goes through CSR, which torch flags as beta
            warnings.simplefilter("ignore", UserWarning)
            return torch.sparse.mm(left, transpose(right)).coalesce()
    return left @ right.T


def hypergraph_laplacian(h: torch.Tensor, w: torch.Tensor | None = None) -> torch.Tensor:
    """Zhou's normalised hypergraph Laplacian ``Delta = I - Theta`` (dense)."""
    theta = to_dense(hypergraph_propagation(h, w))
    return torch.eye(theta.shape[0], dtype=theta.dtype, device=theta.device) - theta


def incidence_power(h: torch.Tensor, k: int, *, binarize: bool = False) -> torch.Tensor:
    """``H^(k) = H^k`` for a square incidence matrix (one hyperedge per vertex); ``binarize`` keeps only the
    support (``[H^k > 0]``: vertex ``v`` is in the order-``k`` hyperedge of ``e`` iff a k-step chain links them)."""
    h = to_dense(h)
    if h.dim() != 2 or h.shape[0] != h.shape[1]:
        raise InputError(f"incidence powers need a square (n, n) incidence matrix, got {tuple(h.shape)}")
    if k < 1:
        raise InputError(f"the order k must be >= 1, got {k}")
    out = torch.linalg.matrix_power(h, k)
    return (out > 0).to(h.dtype) if binarize else out


def higher_order_propagations(h: torch.Tensor, orders: Sequence[int], *, binarize: bool = False,
                              w: torch.Tensor | None = None) -> list[torch.Tensor]:
    """``[Theta(H^(k)) for k in orders]``: HybridHGCN's normalised operator of each order (dense)."""
    return [to_dense(hypergraph_propagation(incidence_power(h, k, binarize=binarize), w)) for k in orders]


def clique_expansion(h: torch.Tensor, w: torch.Tensor | None = None) -> torch.Tensor:
    """The weighted clique-expansion graph ``A = H W H^T`` with a zero diagonal (dense)."""
    w = _weights(h, w)
    hd = to_dense(h)
    a = (hd * w[None, :]) @ hd.T
    a.fill_diagonal_(0.0)
    return a


def propagate(theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``Theta @ X`` for a dense or sparse operator."""
    return matmul(theta, x)


__all__ = [
    "clique_expansion", "higher_order_propagations", "hypergraph_degrees", "hypergraph_laplacian",
    "hypergraph_propagation", "incidence_from_adjacency", "incidence_from_hyperedges", "incidence_power",
    "knn_incidence", "propagate",
]
