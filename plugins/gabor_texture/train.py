"""Training (cross-entropy through the shared trainer) and top-1 evaluation."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch.nn import functional as F

from zoo.engines.retrieval.tasks import encode_all
from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.options import TrainOptions
from zoo_plugins.gabor_texture.config import GaborConfig
from zoo_plugins.gabor_texture.model import GaborTextureNet


def loss_fn(model: GaborTextureNet, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
    """Cross-entropy of the fused prediction."""
    logits = model(batch[0])["logits"]
    loss = F.cross_entropy(logits, batch[1])
    return loss, {"train_acc": float((logits.argmax(1) == batch[1]).float().mean())}


def train(model: GaborTextureNet, data: Any, config: GaborConfig, options: TrainOptions,
          callbacks: Any = ()) -> TrainResult:
    """AdamW with a cosine schedule (the paper's recipe is not given in the abstract: chosen here)."""
    recipe = Recipe(steps=config.steps, batch_size=config.batch_size, lr=config.lr,
                    weight_decay=config.weight_decay, schedule="cosine", warmup_steps=min(10, config.steps // 10))
    return fit(model, data, loss_fn, recipe, options, callbacks=callbacks)


def evaluate(model: GaborTextureNet, data: Any, options: Mapping[str, Any]) -> dict[str, float]:
    """Top-1 accuracy."""
    logits = encode_all(model, lambda x: model(x)["logits"], data.images)
    return {"top1": float((logits.argmax(1) == data.labels).float().mean())}
