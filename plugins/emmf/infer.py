"""EMMF inference (transductive): indices of training samples -> their shared representation rows and clusters."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from zoo_plugins.emmf.config import EMMFConfig
from zoo_plugins.emmf.model import EMMF


def example_inputs(config: EMMFConfig) -> dict[str, torch.Tensor]:
    """The first four samples."""
    return {"index": torch.arange(min(4, config.num_samples))}


@torch.no_grad()
def infer(model: EMMF, inputs: Mapping[str, torch.Tensor]) -> dict[str, Any]:
    """``{"representation": (B, k), "cluster": (B,)}`` (nearest stored k-means centre)."""
    h = model.representation(inputs["index"])
    return {"representation": h, "cluster": torch.cdist(h, model.centers).argmin(1)}
