"""QR-GAN's networks: the quantile score critic f(x, tau) = f(phi(x) * psi(tau)) (Eqs. 15-16) with the cosine
embedding psi of IQN, the WGAN baseline's scalar critic f(phi(x)), and the generators (MLP for 2-D data,
DCGAN for 32x32 images)."""
from __future__ import annotations

import math

import torch
from torch import nn

from zoo.errors import InputError
from zoo.gan import GANPair
from zoo_plugins.qr_gan.config import QRGANConfig


class CosineEmbedding(nn.Module):
    """Eq. 15: ``psi_j(tau) = ReLU(sum_{i=0}^{T-1} cos(pi i tau) w_ij + b_j)``, ``tau [N] -> [N, d]``."""

    def __init__(self, cosines: int, dim: int) -> None:
        super().__init__()
        self.register_buffer("frequencies", math.pi * torch.arange(cosines, dtype=torch.float32), persistent=False)
        self.linear = nn.Linear(cosines, dim)

    def forward(self, taus: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.linear(torch.cos(taus[:, None] * self.frequencies)))


class QuantileCritic(nn.Module):
    """Eq. 16: the score ``f(phi(x) (.) psi(tau))`` of every sample at every fraction: ``(x [m, ...], taus [N])
    -> [m, N]``; ``phi`` maps samples to ``d`` features, ``f`` is one fully connected layer ``d -> 1``."""

    def __init__(self, phi: nn.Module, dim: int, cosines: int) -> None:
        super().__init__()
        self.phi = phi
        self.psi = CosineEmbedding(cosines, dim)
        self.f = nn.Linear(dim, 1)

    def forward(self, x: torch.Tensor, taus: torch.Tensor) -> torch.Tensor:
        features = self.phi(x)  # [m, d]
        return self.f(features[:, None, :] * self.psi(taus)[None, :, :]).squeeze(-1)


class ScalarCritic(nn.Module):
    """The WGAN baseline's critic ``f(phi(x))``: ``x [m, ...] -> [m]``, same ``phi`` and ``f``, no fractions."""

    def __init__(self, phi: nn.Module, dim: int) -> None:
        super().__init__()
        self.phi = phi
        self.f = nn.Linear(dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.f(self.phi(x)).squeeze(-1)


def mlp(sizes: list[int], final_activation: bool) -> nn.Sequential:
    """Linear layers of ``sizes`` with LeakyReLU(0.2) between them (and after the last one if asked)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if final_activation or i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


class DCGANGenerator(nn.Module):
    """DCGAN for 32x32: ``z`` -> 4x4x(4w) -> 8x8x(2w) -> 16x16x(w) -> 32x32xC (transposed convs, BN, ReLU, tanh)."""

    def __init__(self, latent_dim: int, width: int, channels: int) -> None:
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, 4 * w, 4, 1, 0, bias=False), nn.BatchNorm2d(4 * w), nn.ReLU(True),
            nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.ReLU(True),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(True),
            nn.ConvTranspose2d(w, channels, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z[:, :, None, None])


def dcgan_features(width: int, channels: int) -> nn.Sequential:
    """phi for 32x32 images: the DCGAN discriminator's convolutions 32 -> 16 -> 8 -> 4 (w, 2w, 4w channels;
    LeakyReLU 0.2, BN after the first), flattened: d = 16 * 4w (4096 for w = 64)."""
    w = width
    return nn.Sequential(
        nn.Conv2d(channels, w, 4, 2, 1), nn.LeakyReLU(0.2, True),
        nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2, True),
        nn.Conv2d(2 * w, 4 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(4 * w), nn.LeakyReLU(0.2, True),
        nn.Flatten())


class QRGAN(GANPair):
    """A generator and a critic (quantile or scalar, per ``config.objective``); ``forward(z)`` generates."""

    def __init__(self, config: QRGANConfig) -> None:
        if config.arch == "mlp":
            generator: nn.Module = mlp([config.latent_dim, config.hidden, config.hidden, config.data_dim], False)
            phi: nn.Module = mlp([config.data_dim, config.hidden, config.hidden, config.feature_dim], True)
        else:
            generator = DCGANGenerator(config.latent_dim, config.width, config.channels)
            phi = dcgan_features(config.width, config.channels)
        critic = (QuantileCritic(phi, config.feature_dim, config.cosines) if config.objective == "quantile"
                  else ScalarCritic(phi, config.feature_dim))
        super().__init__(generator, critic, config.latent_dim)
        self.config = config

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise InputError(f"qr-gan: z must be (B, {self.latent_dim}), got {tuple(z.shape)}")
        return self.generator(z)


def build(config: QRGANConfig) -> QRGAN:
    """The variant's pair, randomly initialised."""
    return QRGAN(config)
