"""Variant configs of LISTA-MSN (frozen dataclasses, JSON-able, no torch import)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from zoo.errors import ConfigError


@dataclass(frozen=True)
class ListaMSNConfig:
    """Problem, network and recipe (paper symbols in brackets).

    Problem: ``n`` [n] signal size, ``m`` [m] code size (over-complete dictionary ``D`` of ``n x m``), ``lam``
        [lambda] = 0.5 (LASSO weight); ``dictionary`` ``gaussian`` (N(0, 1) entries, Sect. 3.1) or ``digits``
        (m digits images, mean-removed and normalised, Sect. 3.2); ``normalize_columns`` scales D's columns to
        unit norm (our choice: the paper does not say; without it lambda = 0.5 is negligible against ||D^T x||);
        ``n_train``/``n_test`` [N_train, N_test] samples ``x ~ N(0, I_n)`` (digits: images, mean-removed and
        variance-normalised), target codes ``z*`` by ``fista_iters`` FISTA steps; ``data_seed``.
    Network: ``layers`` [K] unrolled LISTA iterations (weights shared across layers: W_e, S, theta);
        ``head`` ``msn`` (LISTA-MSN) or ``none`` (plain LISTA, trained with MSE to z*); ``components`` [M]
        Gaussian kernels (the paper does not give M: 5 is ours); ``mu_eps`` [epsilon] = 0.01 of the shrinkage
        h_eps on the means (``0`` switches the sparse regulation off, Table 1); ``elu_gamma`` [gamma] of the
        modified ELU for sigma (not given: 1.0); ``sigma_floor`` a numerical floor under sigma (ours);
        ``head_bias`` adds a bias to the head's linear layer (Algorithm 1 writes ``o = W_m z_hat``, no bias).
    Recipe: Adam ``lr``, ``batch_size``, ``epochs`` (or ``steps``); the paper gives none of these.
    """

    n: int = 64
    m: int = 256
    lam: float = 0.5
    dictionary: Literal["gaussian", "digits"] = "gaussian"
    normalize_columns: bool = True
    n_train: int = 40_000
    n_test: int = 10_000
    fista_iters: int = 1000
    data_seed: int = 0
    layers: int = 10
    head: Literal["msn", "none"] = "msn"
    components: int = 5
    mu_eps: float = 0.01
    elu_gamma: float = 1.0
    sigma_floor: float = 1e-3
    head_bias: bool = False
    lr: float = 1e-3
    batch_size: int = 256
    epochs: int = 20
    steps: int | None = None

    def __post_init__(self) -> None:
        if self.m < self.n or self.n < 1:
            raise ConfigError(f"ListaMSNConfig needs an over-complete dictionary m >= n >= 1, got n={self.n}, "
                              f"m={self.m}")
        if self.layers < 0 or self.components < 1:
            raise ConfigError(f"ListaMSNConfig needs layers >= 0 and components >= 1, got {self.layers}, "
                              f"{self.components}")
        if self.head not in ("msn", "none"):
            raise ConfigError(f"ListaMSNConfig.head must be 'msn' or 'none', got {self.head!r}")
        if self.dictionary not in ("gaussian", "digits"):
            raise ConfigError(f"ListaMSNConfig.dictionary must be 'gaussian' or 'digits', got {self.dictionary!r}")
        if self.dictionary == "digits" and self.n != 64:
            raise ConfigError("the digits dictionary has n = 64 (8x8 images)")
        if self.lam <= 0 or self.mu_eps < 0 or not 0 < self.elu_gamma:
            raise ConfigError("ListaMSNConfig needs lam > 0, mu_eps >= 0 and elu_gamma > 0")


def tiny() -> ListaMSNConfig:
    """n = 16, m = 64, K = 5, M = 3, 2,000 / 500 samples, 10 epochs (CPU seconds)."""
    return ListaMSNConfig(n=16, m=64, layers=5, components=3, n_train=2000, n_test=500, fista_iters=500,
                          epochs=10, batch_size=128, lr=3e-3)


def paper() -> ListaMSNConfig:
    """Sect. 3.1: Gaussian dictionary n = 64, m = 256, lambda = 0.5, 40,000 / 10,000 samples, K = 10 layers."""
    return ListaMSNConfig()


def lista() -> ListaMSNConfig:
    """The baseline at the paper's size: plain LISTA (no MSN head), trained with MSE to the LASSO codes."""
    return replace(paper(), head="none")


def digits() -> ListaMSNConfig:
    """Sect. 3.2: the dictionary is 256 scikit-learn digits (mean-removed, normalised); signals are digits."""
    return replace(paper(), dictionary="digits")
