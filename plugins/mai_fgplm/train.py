"""Training the surrogate source model(s) on digits, and the attack's white-box evaluation."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

import zoo.attacks as attacks
from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.options import TrainOptions
from zoo_plugins.mai_fgplm.attack import run_attack
from zoo_plugins.mai_fgplm.config import MAIConfig


def train(model: nn.Module, data: Any, config: MAIConfig, options: TrainOptions | None = None,
          callbacks: Sequence[Any] = ()) -> TrainResult:
    """Cross-entropy training of the source ensemble (Adam, ``config.epochs`` over ``data``)."""
    steps = config.epochs * math.ceil(len(data) / config.batch_size)
    recipe = Recipe(steps=steps, batch_size=config.batch_size, lr=config.lr, optimizer="adam")

    def loss_fn(net: nn.Module, batch: Any) -> torch.Tensor:
        x, y = batch
        return F.cross_entropy(net(x), y)

    return fit(model, data, loss_fn, recipe, options or TrainOptions(), callbacks=callbacks)


def evaluate(model: nn.Module, data: Any, config: MAIConfig,
             options: Mapping[str, Any] | None = None) -> dict[str, float]:
    """Clean accuracy of the source, and the configured attack's white-box ASR and APS (pixels in [0, 255]) on
    the correctly classified test images (``options.attack`` overrides the attack name)."""
    name = (options or {}).get("attack") or config.attack
    was_training = model.training
    model.eval()
    try:
        x, y = data.images, data.labels
        with torch.no_grad():
            correct = model(x).argmax(1) == y
        x, y = x[correct], y[correct]
        x_adv = run_attack(model, x, y, config, name, generator=torch.Generator().manual_seed(0))
        return {"clean_accuracy": float(correct.float().mean()),
                "white_box_asr": attacks.attack_success_rate(model, x_adv, y),
                "aps": attacks.average_perturbation_size(x_adv, x)}
    finally:
        model.train(was_training)
