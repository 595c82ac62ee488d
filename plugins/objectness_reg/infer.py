"""Inference: detections of the defended detector (boxes, scores, labels per image)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from zoo.errors import InputError
from zoo_plugins.objectness_reg.config import ORConfig
from zoo_plugins.objectness_reg.model import Detector
from zoo_plugins.objectness_reg.train import detect


def example_inputs(config: ORConfig) -> dict[str, torch.Tensor]:
    """Two synthetic scenes (tiny) or two random images (paper size)."""
    if config.backbone == "tiny":
        from zoo_plugins.objectness_reg.data import scene

        return {"image": torch.stack([scene(config, 10_000 + i)[0] for i in range(2)])}
    return {"image": torch.rand(2, 3, config.image_size, config.image_size, generator=torch.Generator().manual_seed(0))}


def infer(model: Detector, inputs: Mapping[str, Any], config: ORConfig, options: Mapping[str, Any]) -> dict[str, Any]:
    """``detections``: one ``{"boxes", "scores", "labels"}`` per image (score >= tau), with the objectness
    regularisation on unless ``options.defence`` is false; ``count`` per image."""
    image = inputs["image"].float()
    if float(image.min()) < 0 or float(image.max()) > 1:
        raise InputError("objectness-regularization: images must be in [0, 1]")
    found = detect(model, image, bool(options.get("defence", True)))
    return {"detections": found, "count": torch.tensor([len(d["boxes"]) for d in found])}
