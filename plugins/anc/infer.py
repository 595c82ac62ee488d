"""ANC inference: flattened inputs -> class probabilities of the (compressed or not) network."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from zoo_plugins.anc.config import ANCConfig
from zoo_plugins.anc.model import ANCNet


def example_inputs(config: ANCConfig) -> dict[str, torch.Tensor]:
    """Four inputs of the variant's size (digits when it takes 64 features)."""
    if config.in_features == 64:
        from zoo_plugins.anc.data import digits

        return {"x": digits("test").tensors[0][:4]}
    return {"x": torch.rand(4, config.in_features, generator=torch.Generator().manual_seed(0))}


@torch.no_grad()
def infer(model: ANCNet, inputs: Mapping[str, torch.Tensor]) -> dict[str, Any]:
    """``{"probs": (B, C), "label": (B,)}`` in eval mode."""
    was = model.training
    model.eval()
    probs = model(inputs["x"].float()).softmax(1)
    model.train(was)
    return {"probs": probs, "label": probs.argmax(1)}
