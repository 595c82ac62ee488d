"""The network LOG-PBCD trains: an MLP, ReLU on the hidden layers, a linear output (A_l = relu(W_l A_{l-1} + B_l)).

Weights are stored as ``W_l`` of shape ``(d_l, d_{l-1})`` and biases ``b_l`` of shape ``(d_l,)``, the paper's
layout (column = sample), in ``nn.Linear`` layers so the model infers, saves and loads like any other.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from zoo_plugins.log_pbcd.config import LogPBCDConfig


class LogPBCDNet(nn.Module):
    """``Linear -> ReLU -> ... -> Linear`` over flattened images."""

    def __init__(self, config: LogPBCDConfig) -> None:
        super().__init__()
        self.config = config
        widths = config.widths
        self.layers = nn.ModuleList(nn.Linear(widths[i], widths[i + 1]) for i in range(len(widths) - 1))
        for layer in self.layers:
            nn.init.normal_(layer.weight, 0.0, config.init_std / math.sqrt(layer.in_features))
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores ``(B, K)`` for images ``(B, C, H, W)`` (or already flat ``(B, d_0)``)."""
        h = x.flatten(1)
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i < len(self.layers) - 1:
                h = torch.relu(h)
        return h

    def hidden_activations(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every hidden layer's ReLU output (for the activation sparsity the paper reports)."""
        out, h = [], x.flatten(1)
        for layer in self.layers[:-1]:
            h = torch.relu(layer(h))
            out.append(h)
        return out


def build(config: LogPBCDConfig) -> LogPBCDNet:
    """The ``build`` hook."""
    return LogPBCDNet(config)
