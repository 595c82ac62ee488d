"""Inference: the class (nearest prototype), distances, and the class activation map with its box."""
from __future__ import annotations

from collections.abc import Mapping

import torch

from zoo.errors import InputError
from zoo.options import Options
from zoo_plugins.dist_cam.cam import heatmap_box
from zoo_plugins.dist_cam.config import DistCAMConfig
from zoo_plugins.dist_cam.model import MetricNet
from zoo_plugins.dist_cam.train import activation_maps


@torch.no_grad()
def infer(model: MetricNet, inputs: Mapping[str, torch.Tensor], config: DistCAMConfig,
          options: Options) -> dict[str, torch.Tensor]:
    """``label [B]``, ``probs [B, C]`` (softmax of the logits), ``maps [B, H, W]`` (Dist-CAM for the prototype of
    ``options.target``, default the predicted class; CAM for the softmax baseline) and ``boxes [B, 4]``."""
    image = inputs["image"]
    want = (config.in_channels, config.image_size, config.image_size)
    if tuple(image.shape[1:]) != want:
        raise InputError(f"dist-cam: input 'image' must be (B, {want[0]}, {want[1]}, {want[2]}), got "
                         f"{tuple(image.shape)}")
    num_classes = config.num_classes
    if options.target >= num_classes:
        raise InputError(f"dist-cam: target class {options.target} does not exist ({num_classes} classes)")
    was_training = model.training
    model.eval()
    try:
        logits = model(image)
        label = logits.argmax(1)
        target = label if options.target < 0 else torch.full_like(label, options.target)
        maps = activation_maps(model, image, target, options.norm)
    finally:
        model.train(was_training)
    boxes = torch.tensor([heatmap_box(m, options.threshold) for m in maps], dtype=torch.long).view(-1, 4)
    return {"label": label, "probs": logits.softmax(1), "maps": maps, "boxes": boxes, "target": target}
