"""Inference: sample images with the learned Phi and reconstruct them (any size: padded to whole blocks)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from zoo.errors import InputError
from zoo_plugins.invics.config import InvICSConfig
from zoo_plugins.invics.losses import psnr
from zoo_plugins.invics.model import InvICS


def example_inputs(config: InvICSConfig) -> dict[str, torch.Tensor]:
    """Two random grey images of two blocks by two blocks, in [0, 1]."""
    g = torch.Generator().manual_seed(0)
    return {"image": torch.rand(2, 1, 2 * config.block, 2 * config.block, generator=g)}


@torch.no_grad()
def infer(model: InvICS, inputs: Mapping[str, Any], config: InvICSConfig,
          options: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """``reconstruction`` ``[B, 1, H, W]`` of each grey image (reflect-padded to whole blocks for sampling,
    cropped back), its ``measurements`` ``[B, M, H', W']`` (per block) and ``psnr`` (dB) against the input."""
    image = inputs["image"].float()
    if image.shape[1] != 1:
        raise InputError(f"invics: images must be grey (B, 1, H, W), got {tuple(image.shape)}")
    h, w = image.shape[-2:]
    pad_h, pad_w = (-h) % config.block, (-w) % config.block
    padded = F.pad(image, (0, pad_w, 0, pad_h), mode="replicate") if pad_h or pad_w else image
    was_training = model.training
    model.eval()
    try:
        x_hat, y = model(padded)
    finally:
        model.train(was_training)
    x_hat = x_hat[..., :h, :w]
    return {"reconstruction": x_hat, "measurements": y, "psnr": psnr(image, x_hat)}
