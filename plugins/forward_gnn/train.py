"""Training ForwardGNN through the shared trainer: one optimizer per layer, detached layer inputs, the whole graph
each step (node classification, full batch). ``rule="bp"``: the same model and scores, back-propagated."""
from __future__ import annotations

from typing import Any

import torch
from torch.nn import functional as F

from zoo.engines.local_learning import ModuleOptimizers
from zoo.engines.local_learning.forward_forward import forward_forward_step
from zoo.engines.local_learning.forward_only import LocalLoss, forward_only_step
from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.options import TrainOptions
from zoo_plugins.forward_gnn.config import ForwardGNNConfig
from zoo_plugins.forward_gnn.data import Graph
from zoo_plugins.forward_gnn.model import ForwardGNN, class_scores, label_features, with_class_nodes


def recipe_of(config: ForwardGNNConfig) -> Recipe:
    """Adam at the config's learning rate for ``epochs`` full-graph steps."""
    return Recipe(steps=config.epochs, batch_size=1, lr=config.lr, optimizer="adam")


def sf_layer_loss(config: ForwardGNNConfig, n: int, train_idx: torch.Tensor, y: torch.Tensor) -> LocalLoss:
    """A layer's single-forward loss: cross-entropy of the training nodes' similarity to the class nodes."""
    def loss(h: torch.Tensor, layer_input: torch.Tensor, target: Any) -> torch.Tensor:
        return F.cross_entropy(class_scores(h, n, config.num_classes, config.temperature)[train_idx], y[train_idx])

    return LocalLoss(loss)


def wrong_labels(y: torch.Tensor, num_classes: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """A uniformly drawn label different from ``y`` for every node (FF negatives)."""
    shift = torch.randint(1, num_classes, y.shape, generator=generator)
    return (y + shift) % num_classes


def backward_fn_for(config: ForwardGNNConfig) -> Any:
    """The trainer ``backward_fn`` of the SF or FF rule (each layer's optimizer steps after its own loss)."""
    def backward_fn(model: ForwardGNN, graph: Graph, tools: Any) -> dict[str, float]:
        optimizers = tools.optimizer
        train_idx = graph.train_mask.nonzero().flatten()
        known = graph.known_labels()
        step = lambda k: tools.step(optimizers[k])  # noqa: E731
        if config.rule == "ff":
            negative = torch.where(graph.train_mask, wrong_labels(graph.y, config.num_classes), known)
            logs = forward_forward_step(model.layers, label_features(graph.x, known, config.num_classes),
                                        label_features(graph.x, negative, config.num_classes), theta=config.theta,
                                        context=(graph.edge_index,), rows=train_idx, backward=tools.backward,
                                        step=step, autocast=tools.autocast)
            logs["loss"] = sum(logs.values()) / len(logs)
            return logs
        x_aug, edges = with_class_nodes(graph.x, graph.edge_index, known, config.num_classes)
        rule = sf_layer_loss(config, graph.x.shape[0], train_idx, graph.y)
        logs = forward_only_step(model.layers, x_aug, None, [rule] * len(model.layers), context=(edges,),
                                 backward=tools.backward, step=step, autocast=tools.autocast)
        logs["loss"] = logs[f"layer_loss_{len(model.layers) - 1}"]
        return logs

    return backward_fn


def bp_loss_fn(config: ForwardGNNConfig) -> Any:
    """End-to-end baseline: the last layer's SF loss back-propagated through every layer."""
    def loss_fn(model: ForwardGNN, graph: Graph) -> torch.Tensor:
        train_idx = graph.train_mask.nonzero().flatten()
        x_aug, edges = with_class_nodes(graph.x, graph.edge_index, graph.known_labels(), config.num_classes)
        h = x_aug
        for layer in model.layers:
            h = layer(h, edges)
        scores = class_scores(h, graph.x.shape[0], config.num_classes, config.temperature)
        return F.cross_entropy(scores[train_idx], graph.y[train_idx])

    return loss_fn


def accuracy(model: ForwardGNN, graph: Graph) -> float:
    """Accuracy on the nodes without training labels."""
    probs = model.predict(graph.x, graph.edge_index, graph.known_labels())
    return float((probs.argmax(1) == graph.y)[graph.test_mask].float().mean())


def evaluate(model: ForwardGNN, data: Any) -> dict[str, float]:
    """The ``evaluate`` hook: test-node accuracy."""
    graph = data[0] if isinstance(data, (list, tuple)) else data
    return {"accuracy": accuracy(model, graph)}


def train(model: ForwardGNN, data: Any, config: ForwardGNNConfig, options: TrainOptions, callbacks: Any = ()
          ) -> TrainResult:
    """Train on ``[graph]`` (from ``make_data``) with the config's rule."""
    graphs = list(data) if isinstance(data, (list, tuple)) else [data]
    eval_fn = lambda m: evaluate(m, graphs)  # noqa: E731
    model.train()
    common = dict(collate=lambda items: items[0], eval_fn=eval_fn, callbacks=callbacks)
    if config.rule == "bp":
        return fit(model, graphs, bp_loss_fn(config), recipe_of(config), options, **common)
    optimizers = ModuleOptimizers([torch.optim.Adam(layer.parameters(), lr=config.lr) for layer in model.layers])
    return fit(model, graphs, None, recipe_of(config), options, optimizer=optimizers,
               backward_fn=backward_fn_for(config), **common)
