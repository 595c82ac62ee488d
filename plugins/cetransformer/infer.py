"""Inference: the potential outcomes and the individual treatment effect of each unit."""
from __future__ import annotations

from collections.abc import Mapping

import torch

from zoo_plugins.cetransformer.config import CETConfig
from zoo_plugins.cetransformer.model import CETransformer
from zoo_plugins.cetransformer.train import predict


def example_inputs(config: CETConfig) -> dict[str, torch.Tensor]:
    """Four standardised covariate rows (seeded)."""
    return {"x": torch.randn(4, config.num_features, generator=torch.Generator().manual_seed(0))}


def infer(model: CETransformer, inputs: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``mu0 [B]``, ``mu1 [B]`` and ``ite = mu1 - mu0``."""
    out = predict(model, inputs["x"].float())
    return {"mu0": out[:, 0], "mu1": out[:, 1], "ite": out[:, 1] - out[:, 0]}
