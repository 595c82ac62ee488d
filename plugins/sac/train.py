"""Training and evaluation of SAC through the shared trainer (:func:`zoo.engines.trainer.fit`).

One step: forward the batch (with the attention map when dropping is on), ``L = CE_1 + lambda * CE_2``; with the
Dropping module on, erase the regions its (detached) attention selects, forward the erased batch and average the
two losses. The paper's recipe: SGD (momentum 0.9, weight decay 1e-5), batch 12, lr 1e-3 multiplied by 0.9 every
2 epochs, 80 epochs (``SACConfig.paper``).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from torch.utils.data import default_collate

from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.errors import ConfigError
from zoo.options import TrainOptions
from zoo_plugins.sac.config import SACConfig
from zoo_plugins.sac.dropping import drop_images
from zoo_plugins.sac.losses import sac_loss
from zoo_plugins.sac.model import SACModel, placeholder_message


def recipe_for(config: SACConfig, num_samples: int) -> Recipe:
    """The variant's recipe; epochs become steps (``ceil(num_samples / batch)`` per epoch), and the paper's
    "x0.9 every 2 epochs" becomes a step schedule with a milestone every 2 epochs."""
    per_epoch = max(1, math.ceil(num_samples / config.batch_size))
    steps = config.steps if config.steps is not None else config.epochs * per_epoch
    if steps <= 0:
        raise ConfigError("SACConfig needs steps > 0 or epochs > 0")
    every = config.decay_every_epochs * per_epoch
    milestones = tuple(range(every, steps, every)) if config.schedule == "step" else ()
    return Recipe(steps=steps, batch_size=config.batch_size, lr=config.lr, optimizer=config.optimizer,
                  weight_decay=config.weight_decay, momentum=config.momentum, schedule=config.schedule,
                  milestones=milestones, gamma=config.lr_decay, grad_clip=config.grad_clip)


def make_loss_fn(config: SACConfig) -> Callable[[nn.Module, Any], tuple[torch.Tensor, dict[str, float]]]:
    """``loss_fn(model, (images, labels))`` for the trainer: SAC loss, plus the dropped view when enabled."""
    dropping = config.drop_mode != "none"

    def loss_fn(model: nn.Module, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
        images, labels = batch
        out = model(images, return_attention=dropping)
        loss, logs = sac_loss(out, labels, config.second_weight)
        if dropping:
            erased = drop_images(images, out.spatial_attention().detach(), config.drop_mode, config.d_phi)
            loss_drop, logs_drop = sac_loss(model(erased), labels, config.second_weight)
            loss = 0.5 * (loss + loss_drop)
            logs.update({f"{k}_drop": v for k, v in logs_drop.items()})
        return loss, logs

    return loss_fn


def check_class_names(model: SACModel, data: Any) -> None:
    """The dataset's class names must be the model's (SAC embeds them); placeholder names need
    ``allow_placeholder_names``."""
    if not model.config.class_names and not model.config.allow_placeholder_names:
        raise ConfigError(placeholder_message(model.config.num_classes) + " To train with the placeholders "
                          "anyway (an ablation), build with allow_placeholder_names=True.")
    names = getattr(data, "class_names", None)
    if names is None:
        return
    if len(names) != model.config.num_classes:
        raise ConfigError(f"the dataset has {len(names)} classes but the model was built for "
                          f"{model.config.num_classes}; build with num_classes={len(names)}, class_names=...")
    if tuple(names) != model.class_names:
        raise ConfigError("the dataset's class names differ from the model's; build the model with "
                          "class_names=dataset.class_names (SAC embeds the names)")


def train(model: SACModel, data: Any, config: SACConfig, options: TrainOptions | None = None,
          callbacks: Sequence[Any] = (), eval_data: Any = None) -> TrainResult:
    """Train ``model`` in place on ``data`` with the variant's recipe; ``eval_data`` adds test metrics."""
    check_class_names(model, data)
    eval_fn = (lambda m: evaluate(m, eval_data)) if eval_data is not None else None
    return fit(model, data, make_loss_fn(config), recipe_for(config, len(data)), options or TrainOptions(),
               eval_fn=eval_fn, callbacks=callbacks)


def batches(data: Any, batch_size: int) -> Any:
    """``(images, labels)`` batches over a map-style dataset, in order."""
    images = getattr(data, "images", None)
    labels = getattr(data, "labels", None)
    for start in range(0, len(data), batch_size):
        if isinstance(images, torch.Tensor) and isinstance(labels, torch.Tensor):
            yield images[start:start + batch_size], labels[start:start + batch_size]
        else:
            yield default_collate([data[i] for i in range(start, min(start + batch_size, len(data)))])


@torch.no_grad()
def evaluate(model: SACModel, data: Any, batch_size: int = 256) -> dict[str, float]:
    """Top-1 accuracy (fraction) of the fused prediction (the paper's metric), and of each classifier alone."""
    from zoo.metrics import accuracy

    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    preds: dict[str, list[torch.Tensor]] = {"top1_accuracy": [], "top1_first": [], "top1_second": []}
    targets: list[torch.Tensor] = []
    for images, labels in batches(data, batch_size):
        out = model(images.to(device))
        preds["top1_accuracy"].append(model.probabilities(out).argmax(-1).cpu())
        preds["top1_first"].append(out.logits1.argmax(-1).cpu())
        preds["top1_second"].append(out.logits2.argmax(-1).cpu())
        targets.append(torch.as_tensor(labels).cpu())
    model.train(was_training)
    if not targets:
        raise ConfigError("cannot evaluate on an empty dataset")
    target = torch.cat(targets)
    return {name: accuracy(torch.cat(values), target) for name, values in preds.items()}
