"""Hook targets that many classification plugins share (point a declaration at them instead of rewriting them).

``example_images`` and ``classify`` expect a config with ``in_channels`` and ``image_size`` fields and a model
whose forward maps ``[B, C, H, W]`` images to class logits. :func:`outputs_equal` compares two inference outputs
(the conformance kit and the demo use it to check that reloaded weights give identical results).
"""
from __future__ import annotations

import dataclasses
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


def outputs_equal(a: Any, b: Any) -> bool:
    """Whether two inference outputs are identical (tensors exactly equal, containers element-wise)."""
    import torch

    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, Mapping):
        return isinstance(b, Mapping) and a.keys() == b.keys() and all(outputs_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(map(outputs_equal, a, b))
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return outputs_equal(dataclasses.asdict(a), dataclasses.asdict(b))  # type: ignore[arg-type]
    try:
        return bool(a == b)
    except Exception:
        return True  # opaque outputs (figures, paths) are not compared
