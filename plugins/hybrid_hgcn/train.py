"""HybridHGCN training through the shared trainer (full batch: the whole hypergraph is one batch; Adam; cross-
entropy on the labelled vertices, Eq. 9) and evaluation (accuracy on the test vertices)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.errors import ConfigError
from zoo_plugins.hybrid_hgcn.config import HybridHGCNConfig
from zoo_plugins.hybrid_hgcn.data import HypergraphData
from zoo_plugins.hybrid_hgcn.model import HybridHGCN


def masked_cross_entropy(logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Eq. 9: cross-entropy of the softmax over the labelled vertices (mean)."""
    return F.cross_entropy(logits[mask], labels[mask])


@torch.no_grad()
def accuracy(model: HybridHGCN, data: HypergraphData, operators: Sequence[torch.Tensor] | None = None,
             mask: torch.Tensor | None = None) -> float:
    """Accuracy on ``mask`` (default: the test vertices), in eval mode."""
    was = model.training
    model.eval()
    ops = operators if operators is not None else model.operators(data.incidence)
    pred = model(data.features, ops).argmax(1)
    model.train(was)
    m = data.test_mask if mask is None else mask
    return float((pred[m] == data.labels[m]).float().mean())


def train(model: HybridHGCN, data: Any, config: HybridHGCNConfig, options: Any = None,
          callbacks: Sequence[Any] = ()) -> TrainResult:
    """Full-batch training for ``config.epochs`` steps (``options.steps`` overrides); the operators
    ``Theta(H^k)`` are built once. Metrics: train and test accuracy."""
    if not isinstance(data, HypergraphData):
        raise ConfigError(f"hybrid-hgcn trains on a HypergraphData (zoo.make_data), got {type(data).__name__}")
    operators = model.operators(data.incidence)

    def loss_fn(net: HybridHGCN, batch: HypergraphData) -> tuple[torch.Tensor, dict[str, float]]:
        logits = net(batch.features, operators)
        loss = masked_cross_entropy(logits, batch.labels, batch.train_mask)
        return loss, {"train_accuracy": float((logits[batch.train_mask].argmax(1)
                                                == batch.labels[batch.train_mask]).float().mean())}

    recipe = Recipe(steps=config.epochs, batch_size=1, lr=config.lr, optimizer="adam",
                    weight_decay=config.weight_decay, shuffle=False)
    result = fit(model, data, loss_fn, recipe, options, collate=lambda items: items[0], callbacks=callbacks,
                 eval_fn=lambda net: {"test_accuracy": accuracy(net, data, operators)})
    result.metrics["train_accuracy"] = accuracy(model, data, operators, data.train_mask)
    result.metrics["test_accuracy"] = accuracy(model, data, operators)
    return result


def evaluate(model: HybridHGCN, data: Any) -> dict[str, float]:
    """``{"accuracy"}`` on the test vertices (the paper's metric)."""
    if not isinstance(data, HypergraphData):
        raise ConfigError(f"hybrid-hgcn evaluates a HypergraphData, got {type(data).__name__}")
    return {"accuracy": accuracy(model, data)}
