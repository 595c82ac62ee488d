"""Training and evaluation of GLAMOR-Net through the shared trainer.

Loss: cross-entropy over the 7 classes (the code's sparse categorical CE). Recipe (the code's; the paper gives
none): SGD momentum 0.9, lr 5e-4, x0.1 at epochs 25 and 40, 60 epochs, batch 4; face augmentation = random
horizontal flip and rotation up to 20 degrees; the context is flipped with its face (see ``README.md``).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.errors import ConfigError
from zoo.options import TrainOptions
from zoo_plugins.glamor_net.config import GlamorConfig


def recipe_for(config: GlamorConfig, num_samples: int) -> Recipe:
    """The variant's recipe with epochs turned into optimizer steps (``ceil(n / batch)`` per epoch)."""
    per_epoch = max(1, math.ceil(num_samples / config.batch_size))
    steps = config.steps if config.steps is not None else config.epochs * per_epoch
    if steps <= 0:
        raise ConfigError("GlamorConfig needs steps > 0 or epochs > 0")
    milestones = tuple(e * per_epoch for e in config.lr_milestones_epochs if e * per_epoch < steps)
    return Recipe(steps=steps, batch_size=config.batch_size, lr=config.lr, optimizer="sgd",
                  momentum=config.momentum, weight_decay=config.weight_decay,
                  schedule="step" if milestones else "constant", milestones=milestones, gamma=config.lr_decay)


def rotate(images: torch.Tensor, max_degrees: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Rotate each image by a uniform random angle in [-max_degrees, max_degrees] (zero padding)."""
    b = images.shape[0]
    angle = (torch.rand(b, generator=generator) * 2 - 1) * math.radians(max_degrees)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1], theta[:, 1, 0], theta[:, 1, 1] = cos, -sin, sin, cos
    grid = F.affine_grid(theta.to(images), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, align_corners=False, padding_mode="zeros")


def augment(face: torch.Tensor, context: torch.Tensor, config: GlamorConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Random horizontal flip (the same for a face and its context) and random face rotation."""
    flip = torch.rand(face.shape[0], device=face.device) < 0.5
    face = torch.where(flip[:, None, None, None], face.flip(-1), face)
    context = torch.where(flip[:, None, None, None], context.flip(-1), context)
    if config.face_rotation > 0:
        face = rotate(face, config.face_rotation)
    return face, context


def make_loss_fn(config: GlamorConfig) -> Any:
    """``loss_fn(model, batch)`` for the trainer: CE on the fused prediction, with the batch's accuracy logged."""

    def loss_fn(model: nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        face, context = batch["face"], batch["context"]
        if config.augment:
            face, context = augment(face, context, config)
        out = model(face, context)
        loss = F.cross_entropy(out.logits, batch["label"])
        acc = (out.logits.argmax(1) == batch["label"]).float().mean()
        return loss, {"train_accuracy": float(acc)}

    return loss_fn


def train(model: nn.Module, data: Any, config: GlamorConfig, options: TrainOptions,
          callbacks: Sequence[Any] = ()) -> TrainResult:
    """Train ``model`` in place on ``data`` (items with ``face``, ``context``, ``label``)."""
    return fit(model, data, make_loss_fn(config), recipe_for(config, len(data)), options, callbacks=callbacks)


@torch.no_grad()
def predict(model: nn.Module, data: Any, batch_size: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """(predicted classes, true labels) over a dataset of dict items."""
    from torch.utils.data import default_collate

    model.eval()
    preds, labels = [], []
    device = next(model.parameters()).device
    for start in range(0, len(data), batch_size):
        batch = default_collate([data[i] for i in range(start, min(len(data), start + batch_size))])
        out = model(batch["face"].to(device), batch["context"].to(device))
        preds.append(out.logits.argmax(1).cpu())
        labels.append(batch["label"])
    return torch.cat(preds), torch.cat(labels)


def evaluate(model: nn.Module, data: Any) -> dict[str, float]:
    """``{"accuracy"}``: top-1 classification accuracy (the paper's metric), and the mean per-class accuracy."""
    from zoo.metrics import accuracy

    pred, target = predict(model, data)
    per_class = [float((pred[target == c] == c).float().mean()) for c in target.unique().tolist()]
    return {"accuracy": accuracy(pred, target), "mean_class_accuracy": sum(per_class) / len(per_class)}
