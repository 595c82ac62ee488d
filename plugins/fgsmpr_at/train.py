"""Training (through the shared trainer) and robust evaluation of FGSMPR and its baselines."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

import zoo.attacks as attacks
from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.errors import ConfigError
from zoo.options import TrainOptions
from zoo_plugins.fgsmpr_at.config import FGSMPRConfig
from zoo_plugins.fgsmpr_at.data import tensors
from zoo_plugins.fgsmpr_at.losses import training_loss


def recipe_for(config: FGSMPRConfig, num_samples: int) -> Recipe:
    """The variant's recipe; ``epochs`` become ``ceil(num_samples / batch) * epochs`` steps unless ``steps``."""
    per_epoch = max(1, math.ceil(num_samples / config.batch_size))
    steps = config.steps if config.steps is not None else config.epochs * per_epoch
    if steps <= 0:
        raise ConfigError("FGSMPRConfig needs steps > 0 or epochs > 0")
    return Recipe(steps=steps, batch_size=config.batch_size, lr=config.lr, optimizer=config.optimizer,
                  momentum=config.momentum, weight_decay=config.weight_decay, schedule=config.schedule)


def train(model: nn.Module, data: Any, config: FGSMPRConfig, options: TrainOptions | None = None,
          callbacks: Sequence[Any] = (), eval_data: Any = None) -> TrainResult:
    """Train ``model`` in place with ``config.mode`` (FGSMPR by default). With ``eval_data`` and
    ``options.eval_every``, robust accuracy is recorded in the history (``eval_pgd_accuracy`` ...)."""
    options = options or TrainOptions()

    def loss_fn(net: nn.Module, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
        x, y = batch
        return training_loss(net, x, y, config)

    eval_fn = (lambda net: evaluate(net, eval_data, config)) if eval_data is not None else None
    return fit(model, data, loss_fn, recipe_for(config, len(data)), options, eval_fn=eval_fn, callbacks=callbacks)


def evaluate(model: nn.Module, data: Any, config: FGSMPRConfig,
             options: Mapping[str, Any] | None = None) -> dict[str, float]:
    """Clean, FGSM and PGD-K-N accuracy (fractions) on ``data`` in eval mode; K, N and the step come from the
    config (``eval_pgd_steps``, ``eval_restarts``, ``eval_alpha``); ``options.cw`` adds CW-K-N accuracy."""
    x, y = tensors(data)
    device = next(model.parameters()).device
    x, y = x.to(device), y.to(device)
    eps = config.epsilon

    def pgd(loss: str) -> Any:
        return lambda m, xb, yb: attacks.pgd(m, xb, yb, eps, config.eval_alpha, config.eval_pgd_steps,
                                             restarts=config.eval_restarts, loss=loss)

    was_training = model.training
    model.eval()
    try:
        metrics = {
            "clean_accuracy": attacks.robust_accuracy(model, x, y, lambda m, xb, yb: xb),
            "fgsm_accuracy": attacks.robust_accuracy(model, x, y, lambda m, xb, yb: attacks.fgsm(m, xb, yb, eps)),
            "pgd_accuracy": attacks.robust_accuracy(model, x, y, pgd("ce")),
        }
        if options is not None and options.get("cw"):
            metrics["cw_accuracy"] = attacks.robust_accuracy(model, x, y, pgd("cw"))
        with torch.no_grad():
            x_f = attacks.fgsm(model, x, y, eps)
            x_p = attacks.pgd(model, x, y, eps, config.eval_alpha, config.eval_pgd_steps)
            metrics["logit_gap"] = float((model(x_f) - model(x_p)).norm(dim=1).mean())
    finally:
        model.train(was_training)
    return metrics
