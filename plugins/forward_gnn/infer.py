"""Inference hooks of ForwardGNN: node features, edges and the known labels in, class probabilities out."""
from __future__ import annotations

from typing import Any

import torch

from zoo.errors import InputError
from zoo_plugins.forward_gnn.config import ForwardGNNConfig
from zoo_plugins.forward_gnn.data import make_data


def example_inputs(config: ForwardGNNConfig) -> dict[str, Any]:
    """The variant's own graph with the training labels known (-1 elsewhere)."""
    graph = make_data(config, "synthetic", "test")[0]
    return {"x": graph.x, "edge_index": graph.edge_index, "labels": graph.known_labels()}


def infer(model: Any, inputs: dict[str, Any], config: ForwardGNNConfig) -> dict[str, torch.Tensor]:
    """``probs (N, C)`` and ``label (N,)`` for every node; the known labels join the class nodes (SF) or are
    appended to the features (FF)."""
    x, edges, labels = inputs["x"], inputs["edge_index"], inputs["labels"]
    n = x.shape[0]
    if x.shape[1] != config.in_features:
        raise InputError(f"forwardgnn: 'x' must have {config.in_features} features per node, got {x.shape[1]}")
    if edges.numel() and (int(edges.min()) < 0 or int(edges.max()) >= n):
        raise InputError(f"forwardgnn: 'edge_index' refers to nodes outside 0..{n - 1}")
    if int(labels.min()) < -1 or int(labels.max()) >= config.num_classes:
        raise InputError(f"forwardgnn: 'labels' must be -1 (unknown) or a class in 0..{config.num_classes - 1}")
    was = model.training
    model.eval()
    try:
        probs = model.predict(x.float(), edges.long(), labels.long())
    finally:
        model.train(was)
    return {"probs": probs, "label": probs.argmax(1)}
