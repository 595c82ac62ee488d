"""SARG training through the shared trainer (Adam, Eq. 14) and evaluation: group-activity accuracy (the paper's
metric), individual-action accuracy, and how often the extracted subgraph holds the key actors."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.errors import ConfigError
from zoo_plugins.sarg.config import SARGConfig
from zoo_plugins.sarg.data import ActorTracks
from zoo_plugins.sarg.losses import sarg_loss
from zoo_plugins.sarg.model import SARG


def train(model: SARG, data: Any, config: SARGConfig, options: Any = None,
          callbacks: Sequence[Any] = ()) -> TrainResult:
    """``config.steps`` Adam steps of Eq. 14 (``options.steps`` overrides)."""
    if not isinstance(data, ActorTracks):
        raise ConfigError(f"sarg trains on ActorTracks (zoo.make_data), got {type(data).__name__}")

    def loss_fn(net: SARG, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        activity, actions = net(batch["features"], batch["positions"])
        return sarg_loss(activity, actions, batch["activity"], batch["actions"], config.action_weight)

    recipe = Recipe(steps=config.steps, batch_size=config.batch_size, lr=config.lr, optimizer="adam",
                    weight_decay=config.weight_decay)
    return fit(model, data, loss_fn, recipe, options, callbacks=callbacks)


@torch.no_grad()
def evaluate(model: SARG, data: Any) -> dict[str, float]:
    """``activity_accuracy``, ``action_accuracy`` and, with attention, ``key_recall``: the fraction of key actors
    among the top-k actors of the first graph (averaged over frames and clips)."""
    if not isinstance(data, ActorTracks):
        raise ConfigError(f"sarg evaluates ActorTracks, got {type(data).__name__}")
    was = model.training
    model.eval()
    activity, actions = model(data.features, data.positions)
    out = {"activity_accuracy": float((activity.argmax(1) == data.activity).float().mean()),
           "action_accuracy": float((actions.argmax(-1) == data.actions).float().mean())}
    if model.config.attention != "none":
        _, _, graphs = model.scene(data.features, data.positions)
        idx = graphs[0]["index"]  # (S, K, keep)
        picked = data.key[:, None, :].expand(-1, idx.shape[1], -1).gather(-1, idx)
        out["key_recall"] = float(picked.float().sum(-1).mean() / data.key.sum(-1).float().mean())
    model.train(was)
    return out
