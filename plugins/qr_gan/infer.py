"""Inference: generate from latent codes (and optionally score the samples with the critic)."""
from __future__ import annotations

from collections.abc import Mapping

import torch

from zoo.gan import quantile_fractions
from zoo.options import Options
from zoo_plugins.qr_gan.config import QRGANConfig
from zoo_plugins.qr_gan.model import QRGAN, QuantileCritic


def example_inputs(config: QRGANConfig) -> dict[str, torch.Tensor]:
    """Four latent codes (seeded)."""
    return {"z": torch.randn(4, config.latent_dim, generator=torch.Generator().manual_seed(0))}


@torch.no_grad()
def infer(model: QRGAN, inputs: Mapping[str, torch.Tensor], config: QRGANConfig,
          options: Options) -> dict[str, torch.Tensor]:
    """``samples`` = G(z) (``[B, 2]`` or ``[B, C, 32, 32]`` in [-1, 1]); with ``scores=True`` also ``scores``:
    the critic's ``[B, N]`` quantile scores at the N midpoint fractions (``[B]`` for the WGAN baseline)."""
    was_training = model.training
    model.eval()
    try:
        samples = model(inputs["z"].float())
        out = {"samples": samples}
        if options.scores:
            if isinstance(model.critic, QuantileCritic):
                out["scores"] = model.critic(samples, quantile_fractions(config.n_quantiles, device=samples.device))
            else:
                out["scores"] = model.critic(samples)
    finally:
        model.train(was_training)
    return out
