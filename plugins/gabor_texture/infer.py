"""Inference: class probabilities, the top-k classes and the regions the gate selected."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from zoo.engines.retrieval.tasks import encode_all
from zoo_plugins.gabor_texture.config import GaborConfig
from zoo_plugins.gabor_texture.model import GaborTextureNet


def example_inputs(config: GaborConfig) -> dict[str, torch.Tensor]:
    """Two random images of the variant's size."""
    generator = torch.Generator().manual_seed(0)
    return {"image": torch.rand(2, 3, config.image_size, config.image_size, generator=generator)}


def infer(model: GaborTextureNet, inputs: Mapping[str, torch.Tensor], options: Mapping[str, Any]) -> dict[str, Any]:
    """``probs`` (B, C), top-k ``classes`` and ``scores``; with the texture branch, the ``regions`` kept (B, K, 4)."""
    logits = encode_all(model, lambda x: model(x)["logits"], inputs["image"])
    probs = logits.softmax(-1)
    top = probs.topk(min(int(options.get("k") or 5), probs.shape[1]), dim=1)
    out: dict[str, Any] = {"probs": probs, "classes": top.indices, "scores": top.values}
    if model.config.texture:
        selected = encode_all(model, lambda x: model(x)["selected"].float(), inputs["image"]).long()
        out["regions"] = model.boxes[selected]
    return out
