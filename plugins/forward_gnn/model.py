"""ForwardGNN's network: a stack of GNN layers (torch_geometric's GCNConv / SAGEConv / GATConv, each followed by
ReLU) and the class scoring of its rules — similarity to virtual class nodes (SF) or per-label goodness (FF).

Virtual class nodes (SF): node ``N + c`` stands for class ``c``; it is joined in both directions to every node
whose label is known to be ``c``, and starts from the mean features of those nodes. A layer's class scores for
node ``i`` are ``cos(h_i, h_{N+c}) / temperature``; inference averages their softmax over the layers.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from zoo.engines.local_learning.forward_forward import layer_goodness
from zoo_plugins.forward_gnn.config import ForwardGNNConfig


def make_conv(kind: str, d_in: int, d_out: int, heads: int) -> nn.Module:
    """torch_geometric's layer of that kind."""
    from torch_geometric.nn import GATConv, GCNConv, SAGEConv

    if kind == "gcn":
        return GCNConv(d_in, d_out)
    if kind == "sage":
        return SAGEConv(d_in, d_out)
    return GATConv(d_in, d_out, heads=heads, concat=False)


class GNNLayer(nn.Module):
    """``relu(conv(h, edge_index))``: a layer with two inputs (features and edges)."""

    def __init__(self, conv: nn.Module) -> None:
        super().__init__()
        self.conv = conv

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        """New node states."""
        return torch.relu(self.conv(h, edge_index))


def with_class_nodes(x: torch.Tensor, edge_index: torch.Tensor, labels: torch.Tensor, num_classes: int
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """The graph plus one virtual node per class (features: mean of its labelled nodes; edges both ways)."""
    n = x.shape[0]
    known = (labels >= 0).nonzero().flatten()
    onehot = F.one_hot(labels[known], num_classes).to(x.dtype)  # (n_known, C)
    counts = onehot.sum(0).clamp(min=1)
    class_x = (onehot.T @ x[known]) / counts[:, None]
    virtual = n + labels[known]
    extra = torch.stack([torch.cat([known, virtual]), torch.cat([virtual, known])])
    return torch.cat([x, class_x]), torch.cat([edge_index, extra], 1)


def class_scores(h: torch.Tensor, n: int, num_classes: int, temperature: float) -> torch.Tensor:
    """``cos(h_i, h_{N+c}) / temperature`` for the ``n`` real nodes: ``(n, C)``."""
    return F.normalize(h[:n], dim=-1) @ F.normalize(h[n:n + num_classes], dim=-1).T / temperature


def label_features(x: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """FF input: features with the one-hot label appended (uniform 1/C where the label is unknown)."""
    appended = torch.full((x.shape[0], num_classes), 1.0 / num_classes, dtype=x.dtype)
    known = labels >= 0
    appended[known] = F.one_hot(labels[known], num_classes).to(x.dtype)
    return torch.cat([x, appended], 1)


class ForwardGNN(nn.Module):
    """The GNN layers of a ForwardGNN variant (no classifier head: the rule's scoring classifies)."""

    def __init__(self, config: ForwardGNNConfig) -> None:
        super().__init__()
        self.config = config
        dims = [config.layer_input] + [config.hidden] * config.num_layers
        self.layers = nn.ModuleList(GNNLayer(make_conv(config.conv, dims[i], dims[i + 1], config.heads))
                                    for i in range(config.num_layers))

    def layer_states(self, x: torch.Tensor, edge_index: torch.Tensor) -> list[torch.Tensor]:
        """Every layer's output (inference: no graph kept)."""
        states, h = [], x
        for layer in self.layers:
            h = layer(h, edge_index)
            states.append(h)
        return states

    @torch.no_grad()
    def predict(self, x: torch.Tensor, edge_index: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Class probabilities ``(N, C)`` of every node, given the known labels (-1 = unknown)."""
        cfg = self.config
        n = x.shape[0]
        if cfg.rule == "ff":
            scores = []
            for c in range(cfg.num_classes):
                candidate = torch.where(labels >= 0, labels, torch.full_like(labels, c))
                goodness = layer_goodness(self.layers, label_features(x, candidate, cfg.num_classes), cfg.theta,
                                          (edge_index,))
                scores.append(torch.stack(goodness).sum(0))
            return torch.softmax(torch.stack(scores, 1), 1)
        x_aug, edges_aug = with_class_nodes(x, edge_index, labels, cfg.num_classes)
        states = self.layer_states(x_aug, edges_aug)
        if cfg.rule == "bp":  # trained through the last layer's scores only
            return torch.softmax(class_scores(states[-1], n, cfg.num_classes, cfg.temperature), 1)
        probs = [torch.softmax(class_scores(h, n, cfg.num_classes, cfg.temperature), 1) for h in states]
        return torch.stack(probs).mean(0)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Inference: :meth:`predict`."""
        return self.predict(x, edge_index, labels)


def build(config: ForwardGNNConfig) -> ForwardGNN:
    """The ``build`` hook."""
    return ForwardGNN(config)
