"""Variant configs of LOG-PBCD (gradient-free MLP training by proximal block coordinate descent with a log
regulariser, PRCV 2021): frozen dataclasses, no torch import."""
from __future__ import annotations

from dataclasses import dataclass

from zoo.errors import ConfigError


@dataclass(frozen=True)
class LogPBCDConfig:
    """Network sizes, the objective's weights (Eq. 4) and the run length.

    Objective, for layers l = 1..L (L = len(hidden) + 1)::

        sum_{l<L} gamma/2 ||A_l - relu(Z_l)||^2 + rho/2 ||Z_l - W_l A_{l-1} - B_l||^2
        + lam sum_{l<=L-2} G(A_l) + beta/2 ||Z_L - W_L A_{L-1} - B_L||^2 + alpha/2 ||Z_L - Y||^2,
        G(A) = sum log(1 + |a| / eps)

    every block updated in turn with a proximal term ``delta/2 ||. - previous||^2`` (Algorithm 1).
    The paper gives lam, eps, rho, delta; gamma, beta and alpha are not given (defaults: gamma = beta = rho, which
    also makes the paper's Eq. 19 consistent with its Eq. 18, and alpha = 1).
    ``prox``: ``paper`` = the log-thresholding closed form of Eq. 17; ``exact`` = its exact global minimiser.
    ``init_std``: weights start from N(0, init_std^2 / fan_in) (the paper does not say).
    ``sgd_lr``: the learning rate of the full-batch SGD baseline the paper compares with (0.1 on MNIST).
    """

    in_channels: int = 1
    image_size: int = 8
    num_classes: int = 10
    hidden: tuple[int, ...] = (100, 100)
    lam: float = 3e-6
    eps: float = 1e-3
    rho: float = 1.7
    delta: float = 1.0
    gamma: float = 1.7
    beta: float = 1.7
    alpha: float = 1.0
    prox: str = "paper"
    init_std: float = 1.0
    iterations: int = 60
    sgd_lr: float = 0.1
    dataset: str = "digits"

    def __post_init__(self) -> None:
        if not self.hidden or any(h < 1 for h in self.hidden):
            raise ConfigError(f"LOG-PBCD needs at least one hidden layer of positive width, got {self.hidden}")
        if self.prox not in ("paper", "exact"):
            raise ConfigError(f"prox must be 'paper' or 'exact', got {self.prox!r}")
        if min(self.rho, self.delta, self.gamma, self.beta, self.alpha) <= 0 or self.eps <= 0 or self.lam < 0:
            raise ConfigError("rho, delta, gamma, beta, alpha and eps must be positive and lam >= 0")

    @property
    def in_features(self) -> int:
        """d_0: flattened image size."""
        return self.in_channels * self.image_size * self.image_size

    @property
    def widths(self) -> tuple[int, ...]:
        """d_0, d_1, ..., d_L."""
        return (self.in_features, *self.hidden, self.num_classes)


def tiny() -> LogPBCDConfig:
    """scikit-learn digits (8x8), a 64-100-100-10 MLP, the paper's MNIST hyper-parameters."""
    return LogPBCDConfig()


def paper() -> LogPBCDConfig:
    """MNIST: 784-500-500-10, lam = 3e-6, eps = 1e-3, rho = 1.7, delta = 1, full batch (Sec. 4.1-4.2)."""
    return LogPBCDConfig(image_size=28, hidden=(500, 500), iterations=1000, dataset="mnist")


def fashion() -> LogPBCDConfig:
    """Fashion-MNIST: the same network, rho = 1, eps = 1e-4, lam = 1e-7, SGD learning rate 0.3 (Sec. 4.3)."""
    return LogPBCDConfig(image_size=28, hidden=(500, 500), rho=1.0, gamma=1.0, beta=1.0, eps=1e-4, lam=1e-7,
                         iterations=1000, sgd_lr=0.3, dataset="fashion-mnist")


def no_log() -> LogPBCDConfig:
    """The ablation: the same proximal BCD without the log regulariser (lam = 0), on digits."""
    return LogPBCDConfig(lam=0.0)
