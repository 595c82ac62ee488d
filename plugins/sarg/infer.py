"""SARG inference: actor features and positions of a clip -> group activity, individual actions and the key
actors each graph selected."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from zoo_plugins.sarg.config import SARGConfig
from zoo_plugins.sarg.model import SARG


def example_inputs(config: SARGConfig) -> dict[str, torch.Tensor]:
    """Two synthetic clips of the variant's sizes."""
    from zoo_plugins.sarg.data import actor_tracks

    clips = actor_tracks(2, config, seed=7)
    return {"features": clips.features, "positions": clips.positions}


@torch.no_grad()
def infer(model: SARG, inputs: Mapping[str, torch.Tensor]) -> dict[str, Any]:
    """``{"activity_probs" (B, C_g), "activity" (B,), "action_probs" (B, N, C_a), "actions" (B, N),
    "key_actors" (B, N_g, K, ceil(kN)) or None}`` in eval mode."""
    was = model.training
    model.eval()
    x, pos = inputs["features"].float(), inputs["positions"].float()
    activity, actions = model(x, pos)
    key = None
    if model.config.attention != "none":
        _, _, graphs = model.scene(x, pos)
        key = torch.stack([g["index"] for g in graphs], 1)
    model.train(was)
    return {"activity_probs": activity.softmax(-1), "activity": activity.argmax(-1),
            "action_probs": actions.softmax(-1), "actions": actions.argmax(-1), "key_actors": key}
