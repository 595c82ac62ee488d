"""The networks tpSGD trains: an MLP, a small CNN or a stack of Elman RNN layers, plus the fixed random projections
that make each hidden layer's local target (buffers, so saved weights reproduce them)."""
from __future__ import annotations

import torch
from torch import nn

from zoo.engines.local_learning.forward_only import RandomTargetProjection
from zoo_plugins.tpsgd.config import TpSGDConfig

ACTIVATIONS = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU}


class ElmanRNN(nn.Module):
    """``h_t = act(W_x x_t + W_h h_{t-1} + b)`` over ``(B, T, F)``, returning every step ``(B, T, H)``.

    With ``bptt=False`` the recurrent input ``h_{t-1}`` is detached, so a local loss on ``h_t`` updates the weights
    from step ``t`` alone (local in time as well as in depth).
    """

    def __init__(self, in_features: int, hidden: int, activation: str, bptt: bool) -> None:
        super().__init__()
        self.input = nn.Linear(in_features, hidden)
        self.recurrent = nn.Linear(hidden, hidden, bias=False)
        self.act = ACTIVATIONS[activation]()
        self.bptt = bptt
        self.hidden = hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """All hidden states of the sequence ``x`` (B, T, F)."""
        h = x.new_zeros(x.shape[0], self.hidden)
        drive = self.input(x)
        states = []
        for t in range(x.shape[1]):
            h = self.act(drive[:, t] + self.recurrent(h if self.bptt else h.detach()))
            states.append(h)
        return torch.stack(states, 1)


class LastStep(nn.Module):
    """The output layer of an RNN: a linear map of the last time step."""

    def __init__(self, hidden: int, num_classes: int) -> None:
        super().__init__()
        self.fc = nn.Linear(hidden, num_classes)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """Class scores from ``h[:, -1]``."""
        return self.fc(h[:, -1])


def _layers(config: TpSGDConfig) -> tuple[list[nn.Module], list[tuple[int, ...]]]:
    """Hidden layers + output layer, and the output shape of every hidden layer (for its projection)."""
    act = ACTIVATIONS[config.activation]
    layers: list[nn.Module] = []
    shapes: list[tuple[int, ...]] = []
    if config.arch == "mlp":
        width = config.in_channels * config.image_size ** 2
        for h in config.hidden:
            layers.append(nn.Sequential(nn.Linear(width, h), act()))
            shapes.append((h,))
            width = h
        layers.append(nn.Linear(width, config.num_classes))
    elif config.arch == "cnn":
        channels, size = config.in_channels, config.image_size
        for c in config.channels:
            layers.append(nn.Sequential(nn.Conv2d(channels, c, 3, padding=1), act(), nn.MaxPool2d(2)))
            channels, size = c, size // 2
            shapes.append((c, size, size))
        layers.append(nn.Sequential(nn.Flatten(), nn.Linear(channels * size * size, config.num_classes)))
    else:
        width = config.in_channels * config.image_size  # one image row per time step
        for h in config.hidden:
            layers.append(ElmanRNN(width, h, config.activation, config.bptt))
            shapes.append((h,))
            width = h
        layers.append(LastStep(width, config.num_classes))
    return layers, shapes


class TpSGDNet(nn.Module):
    """The network (``layers``: hidden layers then the output layer) and one fixed projection per hidden layer."""

    def __init__(self, config: TpSGDConfig) -> None:
        super().__init__()
        self.config = config
        layers, shapes = _layers(config)
        self.layers = nn.ModuleList(layers)
        squash = {"tanh": "tanh", "sigmoid": "sigmoid", "relu": "none"}[config.activation]
        self.projections = nn.ModuleList(
            RandomTargetProjection(config.num_classes, shape, seed=config.projection_seed + i,
                                   scale=config.projection_scale, squash=squash)
            for i, shape in enumerate(shapes))

    def prepare(self, image: torch.Tensor) -> torch.Tensor:
        """The first layer's input: flat pixels (MLP), the image (CNN) or its rows as a sequence (RNN)."""
        if self.config.arch == "mlp":
            return image.flatten(1)
        if self.config.arch == "rnn":
            return image.permute(0, 2, 1, 3).flatten(2)  # (B, H rows, C * W)
        return image

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Class scores ``(B, K)``."""
        h = self.prepare(image)
        for layer in self.layers:
            h = layer(h)
        return h


def build(config: TpSGDConfig) -> TpSGDNet:
    """The ``build`` hook."""
    return TpSGDNet(config)
