"""Classifiers for the ICCE experiments: the CIFAR ResNet v1 of the paper (Keras' ResNet-44/56) and a small CNN."""
from __future__ import annotations

import torch
from torch import nn

from zoo.errors import ConfigError
from zoo_plugins.icce.config import ICCEConfig


class ConvBN(nn.Sequential):
    """Keras' ``resnet_layer``: conv (with bias, as Keras' default) -> batch norm -> optional ReLU."""

    def __init__(self, cin: int, cout: int, stride: int = 1, relu: bool = True) -> None:
        layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.BatchNorm2d(cout)]
        if relu:
            layers.append(nn.ReLU())
        super().__init__(*layers)


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers and the identity, or a 1x1 strided conv (bias, no BN) when the shape changes."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(ConvBN(cin, cout, stride), ConvBN(cout, cout, relu=False))
        self.shortcut = nn.Conv2d(cin, cout, 1, stride=stride) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``relu(body(x) + shortcut(x))``."""
        return torch.relu(self.body(x) + self.shortcut(x))


class CifarResNetV1(nn.Module):
    """ResNet v1 for 32x32 images with depth 6n + 2 (Keras' CIFAR-10 example that the paper uses: ResNet-44 is
    n = 7, ResNet-56 n = 9): a 16-filter stem, three stages of n blocks with 16/32/64 filters, global average
    pooling and a dense softmax layer."""

    def __init__(self, config: ICCEConfig) -> None:
        super().__init__()
        if (config.depth - 2) % 6:
            raise ConfigError(f"CIFAR ResNet v1 depth must be 6n + 2, got {config.depth}")
        n = (config.depth - 2) // 6
        self.stem = ConvBN(config.in_channels, 16)
        blocks: list[nn.Module] = []
        cin = 16
        for stage, width in enumerate((16, 32, 64)):
            for block in range(n):
                stride = 2 if stage > 0 and block == 0 else 1
                blocks.append(BasicBlock(cin, width, stride))
                cin = width
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(64, config.num_classes)
        self.config = config

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, num_classes]``."""
        return self.head(self.blocks(self.stem(x)).mean(dim=(2, 3)))


class SmallCNN(nn.Sequential):
    """Two 3x3 conv-ReLU layers (``width``, ``2 * width``), a 2x2 max-pool, and a hidden dense layer."""

    def __init__(self, config: ICCEConfig) -> None:
        w = config.width
        side = config.image_size // 2
        super().__init__(
            nn.Conv2d(config.in_channels, w, 3, padding=1), nn.ReLU(),
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(2 * w * side * side, config.hidden), nn.ReLU(), nn.Linear(config.hidden, config.num_classes),
        )
        self.config = config


def build(config: ICCEConfig) -> nn.Module:
    """The variant's classifier."""
    return CifarResNetV1(config) if config.arch == "cifar_resnet" else SmallCNN(config)
