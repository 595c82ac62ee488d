"""Variant configs of ANMMF (frozen dataclasses, JSON-able, no torch import)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from zoo.errors import ConfigError

Clustering = Literal["multiview", "concat"]
Update = Literal["paper", "sqrt"]


@dataclass(frozen=True)
class ANMMFConfig:
    """ANMMF (paper symbols in brackets). ``X (D, n)`` holds one non-negative sample per column.

    Model:
        input_dim [D]: features per sample (digits: 64); rank [m]: columns of each ``U_i`` / ``V_i``;
        num_attributes [V]: how many factorisations ``X ~ U_i V_i^T`` (3 in the paper);
        lambda1 [lambda_1]: weight of the pairwise HSIC diversity term; lambda2 [lambda_2]: weight of the graph
        term ``tr(V_i^T L V_i)``; ``num_attributes=1, lambda1=0`` is GNMF and additionally ``lambda2=0`` NMF
        (the paper's special cases, used as baselines).
    Graph: knn [k] nearest neighbours (the paper: the number of classes), heat-kernel weights
        ``exp(-||x_i - x_j||^2 / t)`` with ``heat_t`` [t] (``None``: the mean squared kNN distance).
    Optimisation: max_iter, tol (stop when ``|O_t - O_{t+1}| < tol * O_t``; the paper writes an absolute 1e-5 on
        objectives of order 1e10), eps (added to denominators), init_iter (multiplicative-update iterations of
        the standard NMF that initialises each ``V_i``, Algorithm 1), update: ``paper`` (Eq. 11/14) or ``sqrt``
        (the square-rooted ratio of Ding et al.'s semi-NMF, which provably decreases the objective).
    Clustering: num_clusters [c]; clustering: ``multiview`` (robust multi-view k-means of Cai et al. 2013 over
        ``{V_i}``, the paper's choice) or ``concat`` (k-means on ``[V_1, ..., V_V]``); mv_gamma: RMKMC's gamma;
        kmeans_init: restarts.
    Data: dataset (``digits``: scikit-learn's 8x8 digits, 64 features in [0, 16] as the paper's "non-normalised"
        data; ``synthetic``: non-negative data with planted clusters), num_samples (``None``: all).
    """

    input_dim: int = 64
    rank: int = 10
    num_attributes: int = 3
    lambda1: float = 1.0
    lambda2: float = 10.0
    knn: int = 10
    heat_t: float | None = None
    max_iter: int = 200
    tol: float = 1e-6
    eps: float = 1e-10
    init_iter: int = 100
    update: Update = "paper"
    num_clusters: int = 10
    clustering: Clustering = "multiview"
    mv_gamma: float = 2.0
    kmeans_init: int = 10
    dataset: str = "digits"
    num_samples: int | None = None

    def __post_init__(self) -> None:
        if self.input_dim < 1 or self.rank < 1 or self.num_attributes < 1:
            raise ConfigError(f"ANMMFConfig needs input_dim, rank, num_attributes >= 1, got "
                              f"{self.input_dim}, {self.rank}, {self.num_attributes}")
        if self.lambda1 < 0 or self.lambda2 < 0:
            raise ConfigError(f"ANMMFConfig lambdas must be >= 0, got {self.lambda1}, {self.lambda2}")
        if self.knn < 1 or self.num_clusters < 1:
            raise ConfigError(f"ANMMFConfig needs knn >= 1 and num_clusters >= 1, got {self.knn}, {self.num_clusters}")
        if self.update not in ("paper", "sqrt"):
            raise ConfigError(f"ANMMFConfig.update must be 'paper' or 'sqrt', got {self.update!r}")
        if self.clustering not in ("multiview", "concat"):
            raise ConfigError(f"ANMMFConfig.clustering must be 'multiview' or 'concat', got {self.clustering!r}")
        if self.dataset not in ("digits", "synthetic"):
            raise ConfigError(f"ANMMFConfig.dataset must be 'digits' or 'synthetic', got {self.dataset!r}")
        if self.max_iter < 0 or self.init_iter < 0 or self.tol < 0 or self.eps <= 0:
            raise ConfigError("ANMMFConfig needs max_iter, init_iter, tol >= 0 and eps > 0")

    @property
    def is_nmf(self) -> bool:
        """Whether this configuration is the plain NMF special case."""
        return self.num_attributes == 1 and self.lambda1 == 0 and self.lambda2 == 0


def tiny() -> ANMMFConfig:
    """500 digits, V = 3 attributes of rank 10, k = 10 neighbours, 60 iterations (seconds on a CPU)."""
    return ANMMFConfig(num_samples=500, max_iter=60, init_iter=50)


def digits() -> ANMMFConfig:
    """The paper's protocol on all 1,797 scikit-learn digits: V = 3, k = c = 10, heat-kernel kNN graph, NMF
    initialisation, multi-view k-means; m = c = 10 (the paper gives no m) and lambda_1 = 1, lambda_2 = 10 from the
    paper's grid {1e-4, ..., 1e3}."""
    return ANMMFConfig(max_iter=200, init_iter=100)


def paper() -> ANMMFConfig:
    """The paper's ORL setting (Table 1): 400 faces of 32x32 = 1,024 features, c = 40 clusters, k = c neighbours,
    V = 3 attributes; m = c (not stated). ORL is not shipped by any package: train it on your own ``(n, 1024)``
    matrix (``train(model, X)``)."""
    return ANMMFConfig(input_dim=1024, rank=40, num_clusters=40, knn=40, num_samples=None, dataset="digits")


def gnmf() -> ANMMFConfig:
    """Baseline GNMF (Cai et al. 2011) on the digits = ANMMF with V = 1, lambda_1 = 0 (Sect. 3.1)."""
    return replace(digits(), num_attributes=1, lambda1=0.0)


def nmf() -> ANMMFConfig:
    """Baseline NMF (Lee & Seung) on the digits = ANMMF with V = 1, lambda_1 = lambda_2 = 0."""
    return replace(digits(), num_attributes=1, lambda1=0.0, lambda2=0.0)
