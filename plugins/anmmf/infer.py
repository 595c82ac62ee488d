"""ANMMF inference: non-negative samples -> their attribute representations ``[V_1, ..., V_V]`` and a cluster."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from zoo_plugins.anmmf.config import ANMMFConfig
from zoo_plugins.anmmf.model import ANMMFModel


def example_inputs(config: ANMMFConfig) -> dict[str, torch.Tensor]:
    """Four non-negative samples of the variant's size (digits rows when it is 64)."""
    if config.input_dim == 64:
        from zoo_plugins.anmmf.data import digits

        return {"x": digits().x[:4].float()}
    return {"x": torch.rand(4, config.input_dim, generator=torch.Generator().manual_seed(0))}


@torch.no_grad()
def infer(model: ANMMFModel, inputs: Mapping[str, torch.Tensor]) -> dict[str, Any]:
    """``{"representation": (B, V m), "attributes": (V, B, m), "cluster": (B,)}``."""
    reps = model.represent(inputs["x"])
    return {"representation": reps.permute(1, 0, 2).reshape(reps.shape[1], -1), "attributes": reps,
            "cluster": model.assign(reps)}
