"""HybridHGCN inference: node features + square incidence matrix -> class probabilities of every vertex."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from zoo.errors import InputError
from zoo_plugins.hybrid_hgcn.config import HybridHGCNConfig
from zoo_plugins.hybrid_hgcn.model import HybridHGCN


def example_inputs(config: HybridHGCNConfig) -> dict[str, torch.Tensor]:
    """The karate club when the variant takes 34 features, else a random 12-vertex ring hypergraph."""
    if config.in_features == 34:
        from zoo_plugins.hybrid_hgcn.data import karate

        data = karate()
        return {"x": data.features, "incidence": data.incidence}
    n = 12
    ring = torch.eye(n) + torch.roll(torch.eye(n), 1, 0) + torch.roll(torch.eye(n), -1, 0)
    return {"x": torch.rand(n, config.in_features, generator=torch.Generator().manual_seed(0)), "incidence": ring}


@torch.no_grad()
def infer(model: HybridHGCN, inputs: Mapping[str, torch.Tensor]) -> dict[str, Any]:
    """``{"probs": (N, C), "label": (N,)}`` in eval mode."""
    x, h = inputs["x"], inputs["incidence"]
    if x.shape[1] != model.config.in_features:
        raise InputError(f"hybrid-hgcn: x must have {model.config.in_features} features, got {x.shape[1]}")
    if h.shape != (x.shape[0], x.shape[0]):
        raise InputError(f"hybrid-hgcn: incidence must be ({x.shape[0]}, {x.shape[0]}) (one hyperedge per vertex), "
                         f"got {tuple(h.shape)}")
    if bool((h < 0).any()):
        raise InputError("hybrid-hgcn: incidence entries must be non-negative")
    was = model.training
    model.eval()
    probs = model(x.float(), model.operators(h.float())).softmax(1)
    model.train(was)
    return {"probs": probs, "label": probs.argmax(1)}
