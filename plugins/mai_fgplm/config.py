"""Variant configs of MAI-FGPLM (frozen dataclasses, JSON-able, no torch import)."""
from __future__ import annotations

from dataclasses import dataclass, replace

from zoo.errors import ConfigError
from zoo_plugins.mai_fgplm import ATTACKS

__all__ = ["ATTACKS", "MAIConfig", "PAPER_SOURCES", "paper", "single", "tiny"]
#: The white-box source models of the paper (timm names): Inc-v3, Inc-v4, IncRes-v2, ResNet-v2-101.
PAPER_SOURCES: tuple[str, ...] = ("inception_v3", "inception_v4", "inception_resnet_v2", "resnetv2_101")


@dataclass(frozen=True)
class MAIConfig:
    """Surrogate (white-box source) models and the attack's hyper-parameters (paper symbols in brackets).

    Sources: ``sources`` timm model names attacked as a logit ensemble with equal weights (Eq. 13), or
        ``("cnn",)`` for the small digits CNN (``width``, ``hidden``); in_channels, image_size, num_classes.
    Attack (Algorithm 1 and Sect. 4.1): ``attack`` one of :data:`ATTACKS` (the paper's Table 1 names);
        ``epsilon`` [eps] 16/255, ``steps`` [T] 10, ``mu`` 1.0 (NI/MI decay), ``mu1``/``mu2`` [mu_1, mu_2] 1.5 / 1.9,
        ``lam`` [lambda] 1.3, ``beta1``/``beta2`` 0.9 / 0.99 (AI-FGTM's increasing steps alpha_t), ``rho`` 0.5,
        ``gamma1``/``gamma2`` 0.12, ``tau`` 0.5, ``mix_kernel`` [V] 9, ``ti_kernel`` [W] 9 (AITM / MAILM),
        ``dim_kernel`` 15 (TI-DIM), ``di_prob`` [p] 1.0, ``di_resize_rate`` 330/299.
        Ablation switches on top of AITM (Table 2): ``use_pl``, ``use_gr``, ``use_mix`` (all on = MAILM).
    Surrogate training (digits): Adam ``lr``, ``batch_size``, ``epochs``.
    """

    sources: tuple[str, ...] = ("cnn",)
    in_channels: int = 1
    image_size: int = 8
    num_classes: int = 10
    width: int = 16
    hidden: int = 64
    attack: str = "ni-ti-di-mailm"
    epsilon: float = 16 / 255
    steps: int = 10
    mu: float = 1.0
    mu1: float = 1.5
    mu2: float = 1.9
    lam: float = 1.3
    beta1: float = 0.9
    beta2: float = 0.99
    rho: float = 0.5
    gamma1: float = 0.12
    gamma2: float = 0.12
    tau: float = 0.5
    mix_kernel: int = 9
    ti_kernel: int = 9
    dim_kernel: int = 15
    di_prob: float = 1.0
    di_resize_rate: float = 330 / 299
    use_pl: bool = True
    use_gr: bool = True
    use_mix: bool = True
    lr: float = 3e-3
    batch_size: int = 64
    epochs: int = 15

    def __post_init__(self) -> None:
        if self.attack not in ATTACKS:
            raise ConfigError(f"MAIConfig.attack must be one of {ATTACKS}, got {self.attack!r}")
        if not self.sources:
            raise ConfigError("MAIConfig.sources needs at least one model")
        if not 0 < self.epsilon <= 1 or self.steps < 1:
            raise ConfigError(f"MAIConfig needs 0 < epsilon <= 1 and steps >= 1, got {self.epsilon}, {self.steps}")
        for name in ("mix_kernel", "ti_kernel", "dim_kernel"):
            if getattr(self, name) < 1 or getattr(self, name) % 2 == 0:
                raise ConfigError(f"MAIConfig.{name} must be an odd size >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.tau <= 1.0 or not 0.0 <= self.di_prob <= 1.0:
            raise ConfigError("MAIConfig needs tau and di_prob in [0, 1]")


def tiny() -> MAIConfig:
    """Digits (8x8): one small CNN as the source, the paper's hyper-parameters with kernels scaled to the image
    (V = W = 3, TI-DIM 5) and eps 16/255."""
    return MAIConfig(mix_kernel=3, ti_kernel=3, dim_kernel=5)


def paper() -> MAIConfig:
    """Sect. 4.1, ensemble setting (Table 6): Inc-v3 + Inc-v4 + IncRes-v2 + Res-101 at 299x299, NI-TI-DI-MAILM with
    eps 16, T 10, mu 1.0, mu1 1.5, mu2 1.9, lambda 1.3, p 1.0, rho 0.5, gamma 0.12, tau 0.5, V = W = 9x9."""
    return MAIConfig(sources=PAPER_SOURCES, in_channels=3, image_size=299, num_classes=1000)


def single() -> MAIConfig:
    """The single-model setting (Tables 4-5) on IncRes-v2, the paper's best single source."""
    return replace(paper(), sources=("inception_resnet_v2",))
