"""GAN objectives as functions of critic outputs (logits or scores), each as its paper writes it.

Every loss is the quantity its player *minimises*. ``real`` / ``fake`` are the critic's outputs on a batch of real
and generated samples (any shape; means run over every element).

=====================================  =========================================================================
non-saturating GAN (Goodfellow 2014)   D: ``-E log s(D(x)) - E log(1 - s(D(G(z))))``; G: ``-E log s(D(G(z)))``
                                       (``saturating=True``: G minimises ``E log(1 - s(D(G(z))))``)
hinge (Lim & Ye 2017; Miyato 2018)     D: ``E relu(1 - D(x)) + E relu(1 + D(G(z)))``; G: ``-E D(G(z))``
WGAN (Arjovsky 2017)                   critic: ``E f(G(z)) - E f(x)``; G: ``-E f(G(z))``; Lipschitz by
                                       :func:`clip_weights_` (WGAN) or :func:`gradient_penalty` (WGAN-GP,
                                       Gulrajani 2017: ``lambda E (||grad f(x_hat)||_2 - 1)^2``)
RaLSGAN (Jolicoeur-Martineau 2018)     D: ``E (C(x) - E C(G(z)) - 1)^2 + E (C(G(z)) - E C(x) + 1)^2``; G: the same
                                       with the targets swapped
quantile critic (QR-GAN, PRCV 2021)    pinball loss ``rho_tau(u) = u (tau - 1[u < 0])`` between real and fake score
                                       quantiles: critic maximises Alg. 1 line 5, generator minimises line 10
=====================================  =========================================================================
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from zoo.errors import ConfigError
from zoo.kernels import ops

__all__ = [
    "bce_discriminator_loss", "bce_generator_loss", "clip_weights_", "gradient_penalty", "hinge_discriminator_loss",
    "hinge_generator_loss", "pinball", "quantile_critic_loss", "quantile_critic_objective",
    "quantile_generator_loss", "ralsgan_discriminator_loss", "score_w1_loss", "ralsgan_generator_loss", "wasserstein_critic_loss",
    "wasserstein_estimate", "wasserstein_generator_loss",
]


# ------------------------------------------------------------------------------------------- BCE and hinge


def bce_discriminator_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """``-E log sigmoid(real) - E log(1 - sigmoid(fake))`` on logits (``softplus`` form, stable)."""
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def bce_generator_loss(fake: torch.Tensor, saturating: bool = False) -> torch.Tensor:
    """Non-saturating ``-E log sigmoid(fake)``; ``saturating=True``: the minimax ``E log(1 - sigmoid(fake))``."""
    if saturating:
        return -F.softplus(fake).mean()
    return F.softplus(-fake).mean()


def hinge_discriminator_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """``E relu(1 - real) + E relu(1 + fake)``."""
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def hinge_generator_loss(fake: torch.Tensor) -> torch.Tensor:
    """``-E fake``."""
    return -fake.mean()


# ------------------------------------------------------------------------------------------------- WGAN


def wasserstein_critic_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """``E f(fake) - E f(real)``: minimising it maximises the Kantorovich-Rubinstein estimate."""
    return fake.mean() - real.mean()


def wasserstein_generator_loss(fake: torch.Tensor) -> torch.Tensor:
    """``-E f(G(z))``."""
    return -fake.mean()


def wasserstein_estimate(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The critic's estimate of W1 (up to its Lipschitz constant): ``E f(real) - E f(fake)``."""
    return real.mean() - fake.mean()


@torch.no_grad()
def clip_weights_(module: nn.Module, c: float) -> None:
    """WGAN's Lipschitz device: clamp every parameter of ``module`` to ``[-c, c]`` in place."""
    if c <= 0:
        raise ConfigError(f"weight clipping needs c > 0, got {c}")
    for p in module.parameters():
        p.clamp_(-c, c)


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor,
                     weight: float = 10.0, target: float = 1.0,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP: ``weight * E (||grad_x f(x_hat)||_2 - target)^2`` at ``x_hat = e x + (1 - e) G(z)``,
    ``e ~ U[0, 1]`` per sample (one ``e`` per row of the batch). The graph is kept (``create_graph``) so the penalty
    trains the critic."""
    if real.shape != fake.shape:
        raise ConfigError(f"gradient penalty: real {tuple(real.shape)} and fake {tuple(fake.shape)} differ")
    e = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), generator=generator, device=real.device,
                   dtype=real.dtype)
    x_hat = (e * real.detach() + (1 - e) * fake.detach()).requires_grad_(True)
    out = critic(x_hat)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    norms = grad.flatten(1).norm(2, dim=1)
    return weight * ((norms - target) ** 2).mean()


# ---------------------------------------------------------------------------------------------- RaLSGAN


def ralsgan_discriminator_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """``E_x (C(x) - E C(G(z)) - 1)^2 + E_z (C(G(z)) - E C(x) + 1)^2`` (relativistic average least squares)."""
    return ((real - fake.mean() - 1.0) ** 2).mean() + ((fake - real.mean() + 1.0) ** 2).mean()


def ralsgan_generator_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """``E_z (C(G(z)) - E C(x) - 1)^2 + E_x (C(x) - E C(G(z)) + 1)^2``."""
    return ((fake - real.mean() - 1.0) ** 2).mean() + ((real - fake.mean() + 1.0) ** 2).mean()


# ------------------------------------------------------------------------------------ quantile regression


def pinball(u: torch.Tensor, tau: torch.Tensor | float) -> torch.Tensor:
    """The quantile-regression (pinball) loss ``rho_tau(u) = u (tau - 1[u < 0])``, elementwise (>= 0)."""
    return u * (tau - (u < 0).to(u.dtype))


def _check_scores(real: torch.Tensor, fake: torch.Tensor, taus: torch.Tensor) -> None:
    if real.dim() != 2 or fake.dim() != 2 or taus.dim() != 1:
        raise ConfigError(f"quantile losses take scores [m, N] and taus [N], got real {tuple(real.shape)}, "
                          f"fake {tuple(fake.shape)}, taus {tuple(taus.shape)}")


def quantile_critic_objective(real: torch.Tensor, fake: torch.Tensor, taus: torch.Tensor) -> torch.Tensor:
    """QR-GAN Alg. 1 line 5 (Eq. 14), what the critic *maximises*:
    ``1/m sum_k sum_i 1/m sum_h rho_tau_i(f(x_r^h, tau_i) - f(x_g^k, tau_i))``.

    ``real [m_r, N]`` and ``fake [m_g, N]`` are the scores at the same quantile fractions ``taus [N]``.
    """
    _check_scores(real, fake, taus)
    return ops.quantile_loss(real, fake, taus, pairing="matched")  # no [h, k, i] tensor on the fused path


def quantile_critic_loss(real: torch.Tensor, fake: torch.Tensor, taus: torch.Tensor) -> torch.Tensor:
    """The critic's loss to *minimise*: ``-quantile_critic_objective``."""
    return -quantile_critic_objective(real, fake, taus)


def quantile_generator_loss(real: torch.Tensor, fake: torch.Tensor, taus: torch.Tensor) -> torch.Tensor:
    """QR-GAN Alg. 1 line 10 (Eq. 13), what the generator minimises:
    ``1/m sum_k sum_j sum_i 1/m sum_h rho_tau_i(f(x_r^h, tau_j) - f(x_g^k, tau_i))``.

    ``real [m_r, M]`` holds the real scores at the fractions ``tau_j`` (the targets), ``fake [m_g, N]`` the
    generated scores at ``taus [N]`` (the quantiles being regressed).
    """
    _check_scores(real, fake, taus)
    return ops.quantile_loss(real, fake, taus, pairing="all")  # no [h, k, j, i] tensor on the fused path


def score_w1_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """W1 between the real and generated score distributions at each fraction, by Eq. 6's closed form for 1-D
    samples (sorted real minus sorted fake), summed over fractions: ``sum_i mean_k |sort(r_i)_k - sort(g_i)_k|``.

    ``real [m, N]`` and ``fake [m, N]`` (same m). Not QR-GAN's Algorithm 1 (whose generator loss makes every
    generated sample's score curve regress on the real quantiles, :func:`quantile_generator_loss`): the distance
    its text says it minimises, offered as an alternative generator loss."""
    if real.shape != fake.shape or real.dim() != 2:
        raise ConfigError(f"score W1 needs real and fake scores of the same shape [m, N], got {tuple(real.shape)} "
                          f"and {tuple(fake.shape)}")
    return (real.sort(0).values - fake.sort(0).values).abs().mean(0).sum()
