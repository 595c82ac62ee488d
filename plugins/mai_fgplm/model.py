"""The white-box source models an attack differentiates: a logit ensemble of classifiers (Eq. 13)."""
from __future__ import annotations

import torch
from torch import nn

from zoo.attacks import LogitEnsemble
from zoo_plugins.mai_fgplm.config import MAIConfig


class DigitsCNN(nn.Sequential):
    """conv(width, 3x3) - ReLU - conv(2 width) - ReLU - 2x2 max-pool - FC(hidden) - ReLU - FC(classes)."""

    def __init__(self, config: MAIConfig) -> None:
        w = config.width
        side = config.image_size // 2
        super().__init__(
            nn.Conv2d(config.in_channels, w, 3, padding=1), nn.ReLU(), nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2 * w * side * side, config.hidden), nn.ReLU(),
            nn.Linear(config.hidden, config.num_classes),
        )


def source_model(name: str, config: MAIConfig) -> nn.Module:
    """``cnn`` (digits) or a timm classifier (``pretrained=False``; load ImageNet weights separately)."""
    if name == "cnn":
        return DigitsCNN(config)
    from zoo.compat import import_timm

    return import_timm().create_model(name, pretrained=False, num_classes=config.num_classes,
                                      in_chans=config.in_channels)


class SourceEnsemble(LogitEnsemble):
    """The attacked white-box models, fused by equal-weight logits; inputs are images in [0, 1]."""

    def __init__(self, config: MAIConfig) -> None:
        super().__init__([source_model(n, config) for n in config.sources])
        self.config = config

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Fused logits ``sum_i w_i l_i(x)``."""
        return super().forward(x)


def build(config: MAIConfig) -> SourceEnsemble:
    """The variant's source ensemble (randomly initialised: train it, or load weights)."""
    return SourceEnsemble(config)
