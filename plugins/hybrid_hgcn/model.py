"""HybridHGCN (Eq. 8): k two-layer HGNN branches, branch k propagating with the normalised operator of the k-th
power of the incidence matrix, mixed by an element-wise max before the softmax."""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from zoo.graphs import higher_order_propagations, matmul
from zoo_plugins.hybrid_hgcn.config import HybridHGCNConfig


class HGNNConv(nn.Module):
    """One hypergraph convolution ``Theta_op (X W + b)`` (HGNN's layer; the activation is applied by the caller)."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x: torch.Tensor, op: torch.Tensor) -> torch.Tensor:
        return matmul(op, self.linear(x))


def hybrid_message(outputs: Sequence[torch.Tensor], mix: str) -> torch.Tensor:
    """The hybrid message operator HM (Eq. 7): element-wise ``max`` over the branches (``mean``/``sum``:
    ablations)."""
    stacked = torch.stack(list(outputs))
    if mix == "max":
        return stacked.amax(0)
    if mix == "mean":
        return stacked.mean(0)
    return stacked.sum(0)


class HybridHGCN(nn.Module):
    """``Y = softmax(HM(Theta^(k) relu(Theta^(k) X W1) W2 for k in orders))``; returns the mixed logits."""

    def __init__(self, config: HybridHGCNConfig) -> None:
        super().__init__()
        self.config = config
        pairs = 1 if config.share_weights else len(config.orders)
        self.layer1 = nn.ModuleList(HGNNConv(config.in_features, config.hidden) for _ in range(pairs))
        self.layer2 = nn.ModuleList(HGNNConv(config.hidden, config.num_classes) for _ in range(pairs))

    def operators(self, incidence: torch.Tensor) -> list[torch.Tensor]:
        """``Theta(H^(k))`` for every order of the config (dense ``(N, N)``)."""
        return higher_order_propagations(incidence, self.config.orders, binarize=self.config.binarize_powers)

    def branch(self, x: torch.Tensor, op: torch.Tensor, index: int) -> torch.Tensor:
        """One two-layer HGNN branch (Eq. 5 without the softmax)."""
        j = 0 if self.config.share_weights else index
        h = F.relu(self.layer1[j](x, op))
        h = F.dropout(h, self.config.dropout, self.training)
        return self.layer2[j](h, op)

    def forward(self, x: torch.Tensor, operators: Sequence[torch.Tensor]) -> torch.Tensor:
        """Mixed logits ``(N, num_classes)`` from node features ``x (N, in_features)`` and the branch operators."""
        return hybrid_message([self.branch(x, op, i) for i, op in enumerate(operators)], self.config.mix)


def build(config: HybridHGCNConfig) -> HybridHGCN:
    """The ``build`` hook."""
    return HybridHGCN(config)
