"""Hook targets that many classification plugins share (point a declaration at them instead of rewriting them).

``example_images`` and ``classify`` expect a config with ``in_channels`` and ``image_size`` fields and a model
whose forward maps ``[B, C, H, W]`` images to class logits.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zoo.errors import InputError


def example_images(config: Any) -> dict[str, Any]:
    """Two random images ``[2, in_channels, image_size, image_size]`` in [0, 1] (seeded)."""
    import torch

    generator = torch.Generator().manual_seed(0)
    size = config.image_size
    return {"image": torch.rand(2, config.in_channels, size, size, generator=generator)}


def classify(method: str, model: Any, inputs: Mapping[str, Any], config: Any) -> dict[str, Any]:
    """Class probabilities ``probs [B, K]`` and labels ``label [B]`` of ``inputs["image"]`` in eval mode."""
    import torch

    image = inputs["image"]
    want = (config.in_channels, config.image_size, config.image_size)
    if tuple(image.shape[1:]) != want:
        raise InputError(f"{method}: input 'image' must be (B, {want[0]}, {want[1]}, {want[2]}) for this variant, "
                         f"got shape {tuple(image.shape)}")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            probs = model(image.float()).softmax(-1)
    finally:
        model.train(was_training)
    return {"probs": probs, "label": probs.argmax(-1)}
