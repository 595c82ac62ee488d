"""Two-stage training of InvICS (Sect. 4) through the shared trainer, and PSNR evaluation."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.options import TrainOptions
from zoo_plugins.invics.config import InvICSConfig
from zoo_plugins.invics.data import RandomCrops
from zoo_plugins.invics.losses import invics_loss, psnr
from zoo_plugins.invics.model import InvICS


def loss_fn(model: InvICS, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
    """Eq. 12 on a batch of crops."""
    (x,) = batch
    x_hat, _ = model(x)
    loss = invics_loss(x, x_hat, model.sampling.matrix, model.config.gamma)
    return loss, {"psnr": float(psnr(x, x_hat.detach()).mean())}


def train(model: InvICS, data: Any, config: InvICSConfig, options: TrainOptions | None = None,
          callbacks: Sequence[Any] = ()) -> TrainResult:
    """Stage 1: ``stage1_size`` crops at ``lr`` (``steps`` or ``epochs * steps_per_epoch`` steps); stage 2:
    ``stage2_size`` crops of the same images at ``lr2`` (``steps2`` or ``epochs2 * steps_per_epoch`` steps)."""
    options = options or TrainOptions()
    steps1 = config.steps if config.steps is not None else config.epochs * config.steps_per_epoch
    result = fit(model, data, loss_fn, Recipe(steps=steps1, batch_size=config.batch_size, lr=config.lr,
                                              optimizer="adam"), options, callbacks=callbacks)
    steps2 = config.steps2 if config.steps is not None else config.epochs2 * config.steps_per_epoch
    if steps2 > 0 and isinstance(data, RandomCrops):
        bigger = RandomCrops(data.images, config.stage2_size, steps2 * config.batch_size, seed=data.seed + 1)
        out = options.out_dir and f"{options.out_dir}/stage2"
        second = fit(model, bigger, loss_fn, Recipe(steps=steps2, batch_size=config.batch_size, lr=config.lr2,
                                                    optimizer="adam"), options.replace(out_dir=out, steps=None),
                     callbacks=callbacks)
        for key, values in second.history.items():
            result.history[f"stage2_{key}"] = values
        result.metrics.update({f"stage2_{k}": v for k, v in second.metrics.items()})
    return result


@torch.no_grad()
def evaluate(model: InvICS, data: Any, options: Mapping[str, Any] | None = None) -> dict[str, float]:
    """Mean PSNR (dB) of the reconstructions of ``data``'s images, and of the initial estimate ``Phi^T y``."""
    was_training = model.training
    model.eval()
    try:
        x = torch.stack([data[i][0] for i in range(len(data))])
        x_hat, y = model(x)
        x0 = model.sampling.phi_t(y)
    finally:
        model.train(was_training)
    return {"psnr": float(psnr(x, x_hat).mean()), "psnr_initial": float(psnr(x, x0).mean())}
