"""The networks ANC compresses: an MLP (the paper's DBN shape) and a CIFAR VGG-16. Both expose their prunable
layers as one chain (convolutions, then fully connected layers), which is what neuron clustering walks."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from zoo.errors import InputError
from zoo_plugins.anc.config import ANCConfig


class ANCNet(nn.Module):
    """``convs`` (3x3, padding 1) each followed by ``bns`` (BatchNorm2d or Identity) and ReLU, max-pools where
    ``channels`` has 0, then ``linears`` with the activation between them. Input: flattened ``(B, in_features)``."""

    def __init__(self, config: ANCConfig) -> None:
        super().__init__()
        self.config = config
        self.convs = nn.ModuleList()
        self.bns = nn.ModuleList()
        self.pool_after: list[bool] = []
        width, size = config.in_channels, config.image_size
        if config.arch == "vgg16":
            for c in config.channels:
                if c == 0:
                    self.pool_after[-1] = True
                    size //= 2
                    continue
                self.convs.append(nn.Conv2d(width, c, 3, padding=1))
                self.bns.append(nn.BatchNorm2d(c) if config.batch_norm else nn.Identity())
                self.pool_after.append(False)
                width = c
            flat = width * size * size
        else:
            flat = config.in_features
        widths = (flat, *config.hidden, config.num_classes)
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))

    def activation(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x) if self.config.activation == "sigmoid" else F.relu(x)

    def chain(self) -> list[nn.Module]:
        """The prunable layers in order: every convolution, then every linear layer (the last is the output)."""
        return [*self.convs, *self.linears]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cfg = self.config
        if x.dim() != 2 or x.shape[1] != cfg.in_features:
            raise InputError(f"anc: x must be (B, {cfg.in_features}) flattened inputs, got {tuple(x.shape)}")
        if cfg.arch == "vgg16":
            x = x.view(-1, cfg.in_channels, cfg.image_size, cfg.image_size)
            for conv, bn, pool in zip(self.convs, self.bns, self.pool_after):
                x = F.relu(bn(conv(x)))
                if pool:
                    x = F.max_pool2d(x, 2)
            x = x.flatten(1)
        for layer in self.linears[:-1]:
            x = self.activation(layer(x))
        return self.linears[-1](x)


def num_parameters(model: nn.Module) -> int:
    """All parameters (buffers excluded)."""
    return sum(p.numel() for p in model.parameters())


def build(config: ANCConfig) -> ANCNet:
    """The ``build`` hook."""
    return ANCNet(config)
