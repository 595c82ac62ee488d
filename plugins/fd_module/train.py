"""Training (cross-entropy, SGD with step decay, on the shared trainer) and top-1 accuracy."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.options import TrainOptions
from zoo_plugins.fd_module.config import FDConfig


def recipe_of(config: FDConfig, steps: int) -> Recipe:
    """The config's recipe; milestones are fractions of the run (``steps`` after any ``--steps`` override)."""
    milestones = tuple(sorted({max(1, int(round(m * steps))) for m in config.milestones}))
    return Recipe(steps=config.steps, batch_size=config.batch_size, lr=config.lr, optimizer=config.optimizer,
                  momentum=config.momentum, weight_decay=config.weight_decay, schedule="step",
                  milestones=milestones, gamma=0.1)


def train(model: nn.Module, data: Any, config: FDConfig, options: TrainOptions,
          callbacks: Sequence[Any] = ()) -> TrainResult:
    """Cross-entropy on ``(images, labels)`` batches through the shared trainer."""

    def loss_fn(net: nn.Module, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
        x, y = batch
        logits = net(x)
        return F.cross_entropy(logits, y), {"train_accuracy": float((logits.argmax(1) == y).float().mean())}

    steps = options.steps if options.steps is not None else config.steps
    return fit(model, data, loss_fn, recipe_of(config, steps), options, callbacks=callbacks)


@torch.no_grad()
def evaluate(model: nn.Module, data: Any) -> dict[str, float]:
    """Top-1 accuracy and error (fractions) on ``data`` (``images``/``labels``), in eval mode."""
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        pred = torch.cat([model(chunk.to(device)).argmax(1).cpu() for chunk in data.images.split(256)])
    finally:
        model.train(was_training)
    accuracy = float((pred == data.labels).float().mean())
    return {"accuracy": accuracy, "error": 1.0 - accuracy}
