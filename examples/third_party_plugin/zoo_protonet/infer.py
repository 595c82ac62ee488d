"""Inference and evaluation of the example plugin."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from zoo_protonet.config import ProtoNetConfig
from zoo_protonet.model import ProtoNet


def example_inputs(config: ProtoNetConfig) -> dict[str, torch.Tensor]:
    """Two random images of the configured size."""
    return {"image": torch.rand(2, 1, config.image_size, config.image_size, generator=torch.Generator().manual_seed(0))}


@torch.no_grad()
def predict(model: ProtoNet, inputs: Mapping[str, torch.Tensor], options: Any) -> dict[str, torch.Tensor]:
    """Class probabilities from negative squared distances to the prototypes, and the ``top_k`` classes."""
    model.eval()
    probs = model(inputs["image"]).softmax(-1)
    top = probs.topk(min(options.top_k, probs.shape[-1]), dim=-1)
    return {"probs": probs, "top_classes": top.indices, "top_probs": top.values}


@torch.no_grad()
def evaluate(model: ProtoNet, data: tuple[torch.Tensor, torch.Tensor]) -> dict[str, float]:
    """Top-1 accuracy."""
    images, labels = data
    model.eval()
    return {"accuracy": (model(images).argmax(-1) == labels).float().mean().item()}
