"""The linear projections FPSORA starts from and is compared with: PCA and LPP (He & Niyogi 2003)."""
from __future__ import annotations

import torch

from zoo.errors import InputError
from zoo.graphs import knn_graph, laplacian


def pca(x: torch.Tensor, dim: int) -> torch.Tensor:
    """Top-``dim`` principal directions of the rows of ``x (n, p)``: ``P (p, dim)`` with orthonormal columns
    (signs fixed so each column's largest entry is positive)."""
    xc = x - x.mean(0, keepdim=True)
    if dim > min(xc.shape):
        raise InputError(f"PCA to {dim} dimensions needs at least that many samples and features, "
                         f"got {tuple(x.shape)}")
    _, _, vt = torch.linalg.svd(xc, full_matrices=False)
    p = vt[:dim].T
    sign = torch.sign(p.gather(0, p.abs().argmax(0, keepdim=True)))
    return p * sign


def lpp(x: torch.Tensor, dim: int, knn: int, t: float | None = None, reg: float = 1e-6) -> torch.Tensor:
    """Locality preserving projections: the ``dim`` smallest generalised eigenvectors of
    ``X^T L X a = lambda X^T D X a`` on the heat-kernel kNN graph (``X`` centred; ``reg * trace / p`` added to the
    right-hand matrix, which is singular when features are constant)."""
    import numpy as np
    import scipy.linalg

    xc = x - x.mean(0, keepdim=True)
    w = knn_graph(xc, knn, weighting="heat", t=t)
    lap = laplacian(w)
    left = (xc.T @ lap @ xc).numpy()
    right = (xc.T @ (w.sum(1)[:, None] * xc)).numpy()
    right = right + reg * float(right.trace()) / right.shape[0] * np.eye(right.shape[0])
    _, vecs = scipy.linalg.eigh(0.5 * (left + left.T), 0.5 * (right + right.T), subset_by_index=[0, dim - 1])
    return torch.as_tensor(vecs, dtype=x.dtype)
