"""Training with ICCE (or a baseline loss) through the shared trainer, and clean-label evaluation."""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.errors import ConfigError
from zoo.options import TrainOptions
from zoo_plugins.icce.config import ICCEConfig
from zoo_plugins.icce.losses import get_loss


def recipe_for(config: ICCEConfig, num_samples: int) -> Recipe:
    """Epochs -> steps; the lr is divided by 10 after ``decay_epoch`` epochs (step schedule) when set."""
    per_epoch = max(1, math.ceil(num_samples / config.batch_size))
    steps = config.steps if config.steps is not None else config.epochs * per_epoch
    if steps <= 0:
        raise ConfigError("ICCEConfig needs steps > 0 or epochs > 0")
    milestones = (config.decay_epoch * per_epoch,) if config.decay_epoch else ()
    return Recipe(steps=steps, batch_size=config.batch_size, lr=config.lr, optimizer=config.optimizer,
                  schedule="step" if milestones else "constant", milestones=milestones, gamma=0.1)


def train(model: nn.Module, data: Any, config: ICCEConfig, options: TrainOptions | None = None,
          callbacks: Sequence[Any] = (), eval_data: Any = None) -> TrainResult:
    """Train ``model`` on ``data`` (its possibly noisy labels) with ``config.loss``; ``eval_data`` adds
    clean-label test accuracy to the history every ``options.eval_every`` steps and at the end."""
    loss = get_loss(config.loss, config.T, config.form, config.gce_q)

    def loss_fn(net: nn.Module, batch: Any) -> torch.Tensor:
        x, y = batch
        return loss(net(x), y)

    eval_fn = (lambda net: evaluate(net, eval_data)) if eval_data is not None else None
    return fit(model, data, loss_fn, recipe_for(config, len(data)), options or TrainOptions(), eval_fn=eval_fn,
               callbacks=callbacks)


@torch.no_grad()
def evaluate(model: nn.Module, data: Any) -> dict[str, float]:
    """Top-1 accuracy (fraction) against the clean labels (``clean_labels`` when the data has them)."""
    x = data.images
    y = getattr(data, "clean_labels", data.labels)
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        pred = torch.cat([model(x[i:i + 512].to(device)).argmax(1).cpu() for i in range(0, len(x), 512)])
    finally:
        model.train(was_training)
    return {"accuracy": float((pred == y).float().mean())}
