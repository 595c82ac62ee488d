"""Variant configs of FPSORA (frozen dataclasses, JSON-able, no torch import)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from zoo.errors import ConfigError

Init = Literal["pca", "lpp"]


@dataclass(frozen=True)
class FPSORAConfig:
    """FPSORA (paper symbols in brackets). ``X (p, n)``: one sample per column (rows of the data given here).

    input_dim [p]: features per sample; dim [d]: the reduced dimension; knn [k]: neighbours of each sample in the
    original space (kept fixed; their weights are what FPSORA re-weights); sigma [sigma]: heat-kernel width of
    Eq. 1, ``w_ij = exp(-||x_i - x_j||^2 / (2 sigma^2))`` (``None``: ``sigma = sigma_scale * s`` with ``2 s^2`` the
    mean squared kNN distance, so the width follows the data's scale);
    init: the starting projection ``P_0`` (``pca`` or ``lpp``; the paper's Table 1, which gives it, is missing);
    max_iter / tol: iterations of the two steps, stopped when the objective's relative decrease is below ``tol``;
    eps: added to projected distances before ``1 / d_ij`` (duplicates); rcond: cut-off of the pseudo-inverse
    of ``L_A^1/2``; num_clusters [c] and kmeans_init (the paper repeats k-means 100 times and averages);
    dataset / num_samples: the data ``make_data`` gives.
    """

    input_dim: int = 64
    dim: int = 20
    knn: int = 5
    sigma: float | None = None
    sigma_scale: float = 0.5
    init: Init = "pca"
    max_iter: int = 30
    tol: float = 1e-6
    eps: float = 1e-12
    rcond: float = 1e-9
    num_clusters: int = 10
    kmeans_init: int = 10
    dataset: str = "digits"
    num_samples: int | None = None

    def __post_init__(self) -> None:
        if self.input_dim < 1 or self.dim < 1 or self.knn < 1 or self.num_clusters < 1:
            raise ConfigError(f"FPSORAConfig needs input_dim, dim, knn, num_clusters >= 1, got {self.input_dim}, "
                              f"{self.dim}, {self.knn}, {self.num_clusters}")
        if (self.sigma is not None and self.sigma <= 0) or self.sigma_scale <= 0:
            raise ConfigError(f"FPSORAConfig.sigma must be positive or None and sigma_scale positive, got "
                              f"{self.sigma}, {self.sigma_scale}")
        if self.init not in ("pca", "lpp"):
            raise ConfigError(f"FPSORAConfig.init must be 'pca' or 'lpp', got {self.init!r}")
        if self.max_iter < 0 or self.tol < 0 or self.eps <= 0:
            raise ConfigError("FPSORAConfig needs max_iter >= 0, tol >= 0, eps > 0")
        if self.dataset not in ("digits", "synthetic"):
            raise ConfigError(f"FPSORAConfig.dataset must be 'digits' or 'synthetic', got {self.dataset!r}")


def tiny() -> FPSORAConfig:
    """400 digits, d = 20, k = 5 (the paper's ETH80 k), 15 iterations."""
    return FPSORAConfig(num_samples=400, max_iter=15)


def digits() -> FPSORAConfig:
    """1,000 scikit-learn digits (the paper's sets have 165-213 images; every iteration is an n x n
    eigendecomposition), d = 40, k = 5, 30 iterations."""
    return FPSORAConfig(num_samples=1000, dim=40, max_iter=30)


def paper() -> FPSORAConfig:
    """The paper's JAFFE setting (Table 2): 213 faces resized to 26x26 (p = 676), k = 10, sigma = 1, best Acc at
    d = 210, 10 expression-independent identities as clusters. JAFFE is not shipped by any package: train on your
    own ``(213, 676)`` matrix."""
    return FPSORAConfig(input_dim=676, dim=210, knn=10, sigma=1.0, num_clusters=10)
