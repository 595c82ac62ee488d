"""Variant configs of QR-GAN (frozen dataclasses, JSON-able, no torch import)."""
from __future__ import annotations

from dataclasses import dataclass

from zoo.errors import ConfigError


@dataclass(frozen=True)
class QRGANConfig:
    """Networks, objective and Algorithm 1's recipe.

    Networks: ``arch`` ``mlp`` (2-D toy data: generator and feature map phi are MLPs of ``hidden`` units) or
        ``dcgan`` (32x32 images with ``channels``; phi = the DCGAN discriminator's convolutions, flattened to
        d = 4 * 4 * 4 * ``width`` = 4096 for width 64); ``feature_dim`` d of phi and psi; ``cosines`` T of Eq. 15;
        ``latent_dim`` of z ~ N(0, I).
    Objective: ``objective`` ``quantile`` (the method: the critic f(x, tau) = f(phi(x) * psi(tau))) or ``wgan``
        (the baseline: a scalar critic f(phi(x))); ``n_quantiles`` N (= M), ``fractions`` of the quantiles
        (``midpoints`` (2i + 1) / 2N, ``uniform`` draws); ``clip`` c of the weight clipping;
        ``generator_loss`` ``pinball`` (Algorithm 1 line 10) or ``sorted`` (not the paper's algorithm: W1 between
        the real and generated score distributions at each fraction by Eq. 6, see the README).
    Recipe (Algorithm 1): lr, ``batch_size`` m, ``n_critic``, optimizer (``adam`` with ``betas``, or ``rmsprop``),
        ``steps`` generator iterations.
    Data: ``modes``, ``layout`` (``ring``/``grid``), ``radius``, ``std`` of the 2-D mixture; ``data_size`` points.
    """

    arch: str = "mlp"
    data_dim: int = 2
    channels: int = 1
    image_size: int = 32
    hidden: int = 64
    width: int = 64
    feature_dim: int = 64
    cosines: int = 16
    latent_dim: int = 2
    objective: str = "quantile"
    n_quantiles: int = 16
    fractions: str = "midpoints"
    generator_loss: str = "pinball"
    clip: float = 0.05
    lr: float = 5e-5
    batch_size: int = 64
    n_critic: int = 5
    optimizer: str = "adam"
    betas: tuple[float, float] = (0.5, 0.999)
    steps: int = 3000
    modes: int = 8
    layout: str = "ring"
    radius: float = 2.0
    std: float = 0.02
    data_size: int = 10_000

    def __post_init__(self) -> None:
        if self.arch not in ("mlp", "dcgan"):
            raise ConfigError(f"QRGANConfig.arch must be 'mlp' or 'dcgan', got {self.arch!r}")
        if self.generator_loss not in ("pinball", "sorted"):
            raise ConfigError(f"QRGANConfig.generator_loss must be 'pinball' or 'sorted', got {self.generator_loss!r}")
        if self.objective not in ("quantile", "wgan"):
            raise ConfigError(f"QRGANConfig.objective must be 'quantile' or 'wgan', got {self.objective!r}")
        if self.arch == "dcgan" and self.image_size != 32:
            raise ConfigError(f"the DCGAN networks here are for 32x32 images, got image_size={self.image_size}")


def tiny() -> QRGANConfig:
    """The 2-D ring of 8 Gaussians (radius 2, std 0.02): MLPs of 64 units, d = 64, T = 16, N = M = 16,
    Algorithm 1's c = 0.05, m = 64, n_critic = 5, Adam (0.5, 0.999); lr 5e-4 (10x the paper's, for CPU minutes)."""
    return QRGANConfig(lr=5e-4)


def wgan() -> QRGANConfig:
    """The baseline on the same data and networks: weight-clipped WGAN (scalar critic f(phi(x)))."""
    return QRGANConfig(objective="wgan", lr=5e-4)


def paper() -> QRGANConfig:
    """CIFAR-10 at 32x32x3 with DCGAN networks: d = 4096 (phi's 256 x 4 x 4 output), T = 16, N = M = 16,
    lr 5e-5, c = 0.05, m = 64, n_critic = 5, Adam (0.5, 0.999), 100-d latent (Algorithm 1)."""
    return QRGANConfig(arch="dcgan", data_dim=32 * 32 * 3, channels=3, feature_dim=4096, latent_dim=100,
                       steps=100_000)


def mnist() -> QRGANConfig:
    """MNIST at 32x32 (Fig. 2) with the same DCGAN networks and recipe."""
    return QRGANConfig(arch="dcgan", data_dim=32 * 32, channels=1, feature_dim=4096, latent_dim=100, steps=100_000)
