"""Black-box target models for transfer experiments on digits: classifiers the attack never differentiates.

``mlp``: a 64-256-256-10 multilayer perceptron (a different architecture from the CNN source);
``mlp_adv``: the same trained with PGD adversarial training (eps 0.1), standing in for the paper's
adversarially trained defences (Inc-v3ens3 ...).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

import zoo.attacks as attacks
from zoo.engines.trainer import Recipe, fit
from zoo.options import TrainOptions

TARGETS: tuple[str, ...] = ("mlp", "mlp_adv")


def mlp(num_classes: int = 10, pixels: int = 64) -> nn.Module:
    """64-256-256-classes ReLU perceptron on flattened images."""
    return nn.Sequential(nn.Flatten(), nn.Linear(pixels, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, num_classes))


def train_target(kind: str, data: object, seed: int = 0, epochs: int = 20) -> nn.Module:
    """A target of ``kind`` trained on ``data`` (digits) with Adam 3e-3; ``mlp_adv`` uses PGD-5 AT (eps 0.1)."""
    torch.manual_seed(seed)
    net = mlp()
    adversarial = kind == "mlp_adv"

    def loss_fn(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, y = batch
        if adversarial:
            x = attacks.pgd(model, x, y, 0.1, 0.025, 5)
        return F.cross_entropy(model(x), y)

    steps = epochs * math.ceil(len(data) / 64)  # type: ignore[arg-type]
    fit(net, data, loss_fn, Recipe(steps=steps, batch_size=64, lr=3e-3, optimizer="adam"),
        TrainOptions(seed=seed, progress=False))
    return net.eval()
