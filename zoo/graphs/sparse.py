"""Small helpers that let the graph functions take dense tensors or torch sparse COO matrices alike, and the
conversions to and from scipy.sparse and networkx."""
from __future__ import annotations

from typing import Any

import torch

from zoo.errors import InputError


def coo_matrix(indices: torch.Tensor, values: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """A coalesced torch sparse COO matrix (indices ``(2, nnz)``)."""
    return torch.sparse_coo_tensor(indices, values, shape, check_invariants=False).coalesce()


def transpose(a: torch.Tensor) -> torch.Tensor:
    """``A^T`` (a sparse ``A`` stays COO)."""
    if not is_sparse(a):
        return a.T
    a = a.coalesce()
    return coo_matrix(a.indices().flip(0), a.values(), (a.shape[1], a.shape[0]))


def is_sparse(a: torch.Tensor) -> bool:
    """Whether ``a`` is a torch sparse COO tensor."""
    return bool(a.is_sparse)


def to_dense(a: torch.Tensor) -> torch.Tensor:
    """``a`` as a dense tensor (no copy if it already is)."""
    return a.to_dense() if is_sparse(a) else a


def row_sums(a: torch.Tensor) -> torch.Tensor:
    """Row sums of a dense or sparse matrix, as a dense vector."""
    if is_sparse(a):
        return torch.sparse.sum(a, dim=1).to_dense()
    return a.sum(1)


def col_sums(a: torch.Tensor) -> torch.Tensor:
    """Column sums of a dense or sparse matrix, as a dense vector."""
    if is_sparse(a):
        return torch.sparse.sum(a, dim=0).to_dense()
    return a.sum(0)


def diag_matrix(values: torch.Tensor, *, sparse: bool = False) -> torch.Tensor:
    """``diag(values)``, dense or sparse COO."""
    if not sparse:
        return torch.diag(values)
    n = values.shape[0]
    idx = torch.arange(n, device=values.device).expand(2, n)
    return coo_matrix(idx, values, (n, n))


def scale_rows_cols(a: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """``diag(rows) @ A @ diag(cols)`` without forming the diagonals (dense or sparse ``A``)."""
    if a.shape[0] != rows.shape[0] or a.shape[1] != cols.shape[0]:
        raise InputError(f"cannot scale a {tuple(a.shape)} matrix by {rows.shape[0]} rows and {cols.shape[0]} cols")
    if not is_sparse(a):
        return rows[:, None] * a * cols[None, :]
    a = a.coalesce()
    i, j = a.indices()
    return coo_matrix(a.indices(), a.values() * rows[i] * cols[j], tuple(a.shape))


def matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``A @ B`` where ``A`` may be sparse (SpMM) and ``B`` is dense."""
    return torch.sparse.mm(a, b) if is_sparse(a) else a @ b


def from_scipy(m: Any, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A scipy.sparse matrix or array as a coalesced torch sparse COO tensor."""
    coo = m.tocoo()
    import numpy as np

    idx = torch.as_tensor(np.vstack([coo.row, coo.col]).astype(np.int64))
    return coo_matrix(idx, torch.as_tensor(coo.data, dtype=dtype), tuple(coo.shape))


def to_scipy(a: torch.Tensor) -> Any:
    """A dense or sparse torch matrix as a ``scipy.sparse.csr_array``."""
    import scipy.sparse as sp

    if not is_sparse(a):
        return sp.csr_array(a.detach().cpu().numpy())
    a = a.coalesce().cpu()
    i, j = a.indices().numpy()
    return sp.csr_array((a.values().detach().numpy(), (i, j)), shape=tuple(a.shape))


def adjacency_from_networkx(graph: Any, *, weight: str | None = "weight", nodelist: list[Any] | None = None,
                            sparse: bool = False, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The adjacency of a networkx graph in ``nodelist`` order (default: ``graph.nodes`` order); ``weight=None``
    gives a binary adjacency. Dense unless ``sparse``."""
    import networkx as nx

    m = nx.to_scipy_sparse_array(graph, nodelist=nodelist, weight=weight, format="coo")
    a = from_scipy(m, dtype)
    return a if sparse else a.to_dense()
