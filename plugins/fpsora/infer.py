"""FPSORA inference: samples -> their projection ``(x - mean) P`` and a cluster."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from zoo_plugins.fpsora.config import FPSORAConfig
from zoo_plugins.fpsora.model import FPSORAModel


def example_inputs(config: FPSORAConfig) -> dict[str, torch.Tensor]:
    """Four samples of the variant's size (digits rows when it is 64)."""
    if config.input_dim == 64:
        from zoo.clustering import digits_matrix

        return {"x": digits_matrix().x[:4].float()}
    return {"x": torch.rand(4, config.input_dim, generator=torch.Generator().manual_seed(0))}


@torch.no_grad()
def infer(model: FPSORAModel, inputs: Mapping[str, torch.Tensor]) -> dict[str, Any]:
    """``{"embedding": (B, d), "cluster": (B,)}``."""
    emb = model(inputs["x"])
    from zoo.clustering import assign

    return {"embedding": emb, "cluster": assign(emb, model.centers)[0]}
