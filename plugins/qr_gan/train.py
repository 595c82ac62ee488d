"""Algorithm 1 on the shared two-player loop (:func:`zoo.gan.fit_gan`), and the W1 evaluation."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from zoo.engines.trainer import TrainResult
from zoo.gan import GANRecipe, fit_gan, make_objective, wasserstein1
from zoo.options import Options, TrainOptions
from zoo_plugins.qr_gan.config import QRGANConfig
from zoo_plugins.qr_gan.model import QRGAN


def objective_of(config: QRGANConfig) -> Any:
    """The quantile objective (Alg. 1 lines 5 and 10) or the WGAN baseline, both with weight clipping ``clip``."""
    if config.objective == "quantile":
        return make_objective("quantile", clip=config.clip, n_quantiles=config.n_quantiles,
                              fractions=config.fractions, generator=config.generator_loss)
    return make_objective("wgan", clip=config.clip)


def recipe_of(config: QRGANConfig) -> GANRecipe:
    """Algorithm 1's recipe: lr, m, n_critic, Adam (0.5, 0.999) or RMSProp."""
    return GANRecipe(steps=config.steps, batch_size=config.batch_size, n_critic=config.n_critic, lr_generator=config.lr,
                     lr_critic=config.lr, optimizer=config.optimizer, betas=config.betas)


def train(model: QRGAN, data: Any, config: QRGANConfig, options: TrainOptions,
          callbacks: Sequence[Any] = ()) -> TrainResult:
    """Train the pair on real samples ``data`` (``options.steps`` generator iterations, default ``config.steps``)."""
    return fit_gan(model, data, objective_of(config), recipe_of(config), options, callbacks=callbacks)


@torch.no_grad()
def evaluate(model: QRGAN, data: torch.Tensor, options: Options) -> dict[str, float]:
    """``w1``: exact Wasserstein-1 (Euclidean ground cost) between ``options.samples`` generated and as many real
    samples of ``data`` (the first ones), flattened; ``w1_l1`` with the L1 ground cost of the paper's Eq. 3."""
    n = min(int(options.samples), len(data))
    was_training = model.training
    model.eval()
    try:
        fake = model.sample(n).flatten(1).cpu()
    finally:
        model.train(was_training)
    real = data[:n].flatten(1)
    return {"w1": wasserstein1(fake, real), "w1_l1": wasserstein1(fake, real, p=1)}
