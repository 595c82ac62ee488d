"""The vanishing adversarial patch (Sect. 2.1): patches at the centres of the clean detections, optimised to
minimise ``max(o(x'))`` (SAA's loss), with the shared :func:`zoo.attacks.patch_attack`."""
from __future__ import annotations

import math

import torch

import zoo.attacks as attacks
from zoo_plugins.objectness_reg.config import ORConfig
from zoo_plugins.objectness_reg.model import Detector


def patch_mask(boxes: torch.Tensor, size: int, total_pixels: int) -> torch.Tensor:
    """``[1, size, size]`` bool mask: one square per box, centred on it, ``total_pixels / len(boxes)`` pixels each
    (clipped to the image)."""
    mask = torch.zeros(1, size, size, dtype=torch.bool)
    if boxes.numel() == 0:
        return mask
    side = max(1, round(math.sqrt(total_pixels / boxes.shape[0])))
    for x1, y1, x2, y2 in boxes.tolist():
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        left, top = max(0, round(cx - side / 2)), max(0, round(cy - side / 2))
        mask[0, top:min(size, top + side), left:min(size, left + side)] = True
    return mask


def step_size(config: ORConfig) -> attacks.patch.StepSize:
    """The paper's schedules: decaying 8/255 halved at 30, 90, 190, or a fixed 1/255."""
    if config.step_schedule == "decay":
        return attacks.decaying_steps(8 / 255, 0.5, (30, 90, 190))
    return config.fixed_step


def vanishing_attack(model: Detector, images: torch.Tensor, clean_boxes: list[torch.Tensor], config: ORConfig,
                     steps: int | None = None, seed: int = 0) -> torch.Tensor:
    """Patched images minimising each image's maximum objectness; adaptive: ``model`` is attacked in whatever
    defence state it is in (through the regularisation when defended)."""
    size = images.shape[-1]
    mask = torch.stack([patch_mask(b, size, config.patch_pixels) for b in clean_boxes])

    def objective(x: torch.Tensor) -> torch.Tensor:
        return model.objectness(x).max(dim=1).values

    result = attacks.patch_attack(objective, images, mask, config.attack_steps if steps is None else steps,
                                  step_size(config), generator=torch.Generator().manual_seed(seed))
    return result.x_adv
