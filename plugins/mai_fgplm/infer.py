"""Inference: adversarial examples of a batch against the source models, with success flags and APS."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

import zoo.attacks as attacks
from zoo.errors import InputError
from zoo_plugins.mai_fgplm.attack import run_attack
from zoo_plugins.mai_fgplm.config import MAIConfig


def example_inputs(config: MAIConfig) -> dict[str, torch.Tensor]:
    """Two random images in [0, 1] of the variant's size."""
    g = torch.Generator().manual_seed(0)
    return {"image": torch.rand(2, config.in_channels, config.image_size, config.image_size, generator=g)}


def infer(model: nn.Module, inputs: Mapping[str, Any], config: MAIConfig,
          options: Mapping[str, Any]) -> dict[str, Any]:
    """``adversarial`` images (same shape, within eps of the input, in [0, 1]), the source's ``label`` before and
    ``adv_label`` after, ``success`` per image and ``aps``. Without ``label`` the attack is untargeted against the
    source's own prediction; ``options.attack`` picks one of the paper's attacks."""
    image = inputs["image"].float()
    if tuple(image.shape[1:]) != (config.in_channels, config.image_size, config.image_size):
        raise InputError(f"mai-fgplm: input 'image' must be (B, {config.in_channels}, {config.image_size}, "
                         f"{config.image_size}), got {tuple(image.shape)}")
    if float(image.min()) < 0 or float(image.max()) > 1:
        raise InputError("mai-fgplm: images must be in [0, 1]")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            pred = model(image).argmax(1)
        labels = inputs.get("label")
        labels = pred if labels is None else labels.long()
        x_adv = run_attack(model, image, labels, config, options.get("attack") or None,
                           generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            adv = model(x_adv).argmax(1)
    finally:
        model.train(was_training)
    return {"adversarial": x_adv, "label": pred, "adv_label": adv, "success": adv != labels,
            "aps": attacks.average_perturbation_size(x_adv, image)}
