"""NHL's source network: a Hebbian first layer, the neuro-modulator after it, and a fixed classifier part."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from zoo_plugins.nhl.config import NHLConfig


class NHLNet(nn.Module):
    """``conv1 -> modulator -> BN -> ReLU -> conv2 -> BN -> ReLU -> max-pool -> mean -> fc``."""

    def __init__(self, config: NHLConfig) -> None:
        super().__init__()
        self.config = config
        c1, c2 = config.channels
        self.conv1 = nn.Conv2d(config.in_channels, c1, 3, padding=1, bias=False)  # adapted by the Hebbian rule
        self.modulator = nn.Conv2d(c1, c1, 1)  # the neuro-modulator: identity at the start
        with torch.no_grad():
            self.modulator.weight.copy_(torch.eye(c1).view(c1, c1, 1, 1))
            self.modulator.bias.zero_()
        self.bn1 = nn.BatchNorm2d(c1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c2)
        self.fc = nn.Linear(c2, config.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores ``(B, K)``."""
        h = F.relu(self.bn1(self.modulator(self.conv1(x))))
        h = F.max_pool2d(F.relu(self.bn2(self.conv2(h))), 2)
        return self.fc(h.mean((2, 3)))


def build(config: NHLConfig) -> NHLNet:
    """The ``build`` hook."""
    return NHLNet(config)
