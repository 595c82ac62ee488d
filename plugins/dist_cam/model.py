"""The metric-learning model Dist-CAM explains (and the softmax baseline CAM explains): a convolutional backbone
whose last feature map Q is global-average-pooled, then either distances to class prototypes (the metric model,
no FC layer) or an FC layer (the softmax model)."""
from __future__ import annotations

import torch
from torch import nn

from zoo.compat import import_timm
from zoo_plugins.dist_cam.config import DistCAMConfig


def cnn_backbone(config: DistCAMConfig) -> nn.Sequential:
    """``blocks`` x (3x3 conv, BN, ReLU), the first ``pools`` followed by 2x2 max-pooling."""
    layers: list[nn.Module] = []
    channels = config.in_channels
    for i in range(config.blocks):
        layers += [nn.Conv2d(channels, config.width, 3, padding=1, bias=False), nn.BatchNorm2d(config.width),
                   nn.ReLU(inplace=True)]
        if i < config.pools:
            layers.append(nn.MaxPool2d(2))
        channels = config.width
    return nn.Sequential(*layers)


class TimmFeatures(nn.Module):
    """A timm model's last feature map (``forward_features``; no pooling, no classifier)."""

    def __init__(self, name: str, in_chans: int) -> None:
        super().__init__()
        self.net = import_timm().create_model(name, pretrained=False, num_classes=0, global_pool="",
                                              in_chans=in_chans)
        self.num_features = int(self.net.num_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.forward_features(x)


class MetricNet(nn.Module):
    """``features(x) -> Q [B, K, h, w]``; ``embed(x) = GAP(Q)``; ``forward(x)``: class logits, either
    ``-||GAP(Q) - P_c||^2`` against the ``prototypes [C, K]`` (head ``prototype``; trained as class centres, then
    set to the class means of the training features, Eq. 7) or ``fc(GAP(Q))`` (head ``fc``)."""

    def __init__(self, config: DistCAMConfig) -> None:
        super().__init__()
        if config.backbone == "cnn":
            self.backbone: nn.Module = cnn_backbone(config)
            dim = config.width
        else:
            self.backbone = TimmFeatures(config.backbone, config.in_channels)
            dim = self.backbone.num_features
        self.head = config.head
        if config.head == "prototype":
            self.prototypes = nn.Parameter(torch.randn(config.num_classes, dim) * 0.1)
        else:
            self.fc = nn.Linear(dim, config.num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The feature map Q the maps are made of."""
        return self.backbone(x)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """``GAP(Q)``, ``[B, K]``."""
        return self.features(x).mean((2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.embed(x)
        if self.head == "prototype":
            return -torch.cdist(z, self.prototypes).pow(2)
        return self.fc(z)


def build(config: DistCAMConfig) -> MetricNet:
    """The variant's model, randomly initialised."""
    return MetricNet(config)
