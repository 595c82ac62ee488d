"""GAN building blocks shared by plugins: losses, objectives, the two-player loop on the shared trainer, metrics and
toy targets.

=============================  ===================================================================================
:mod:`zoo.gan.losses`          non-saturating BCE, hinge, WGAN (+ weight clipping, gradient penalty), RaLSGAN, the
                               quantile (pinball) critic and generator losses of QR-GAN
:mod:`zoo.gan.objectives`      ``make_objective(name)``: critic/generator losses + Lipschitz device, by name
:mod:`zoo.gan.loop`            ``GANPair``, ``fit_gan`` (n_critic critic steps per generator step; seeded,
                               checkpointed and resumable through :func:`zoo.engines.trainer.fit`)
:mod:`zoo.gan.metrics`         exact empirical Wasserstein-1 (``wasserstein1``, ``wasserstein1_1d``)
:mod:`zoo.gan.toy`             2-D Gaussian mixtures (ring, grid)
=============================  ===================================================================================

Tested in ``tests/shared/test_gan.py`` (each loss against its formula on hand-computed logits).
"""
from __future__ import annotations

from zoo.gan.losses import (
    bce_discriminator_loss,
    bce_generator_loss,
    clip_weights_,
    gradient_penalty,
    hinge_discriminator_loss,
    hinge_generator_loss,
    pinball,
    quantile_critic_loss,
    quantile_critic_objective,
    quantile_generator_loss,
    ralsgan_discriminator_loss,
    ralsgan_generator_loss,
    wasserstein_critic_loss,
    wasserstein_estimate,
    wasserstein_generator_loss,
)
from zoo.gan.loop import GANPair, GANRecipe, fit_gan, frozen, gan_step_fn, two_player_optimizer
from zoo.gan.metrics import wasserstein1, wasserstein1_1d
from zoo.gan.objectives import OBJECTIVES, Objective, QuantileObjective, make_objective, quantile_fractions
from zoo.gan.toy import mixture_centres, sample_mixture

__all__ = [
    "GANPair", "GANRecipe", "OBJECTIVES", "Objective", "QuantileObjective", "bce_discriminator_loss",
    "bce_generator_loss", "clip_weights_", "fit_gan", "frozen", "gan_step_fn", "gradient_penalty",
    "hinge_discriminator_loss", "hinge_generator_loss", "make_objective", "mixture_centres", "pinball",
    "quantile_critic_loss", "quantile_critic_objective", "quantile_fractions", "quantile_generator_loss",
    "ralsgan_discriminator_loss", "ralsgan_generator_loss", "sample_mixture", "two_player_optimizer",
    "wasserstein1", "wasserstein1_1d", "wasserstein_critic_loss", "wasserstein_estimate",
    "wasserstein_generator_loss",
]
