"""Classifiers used by the FL baselines: the FedAvg paper's MNIST CNN, a 2-layer MLP, and logistic regression."""
from __future__ import annotations

import torch
from torch import nn

from zoo_plugins.fl_baselines.config import FLBaselineConfig


class MnistCNN(nn.Module):
    """McMahan et al.: conv5x5(32)-pool2-conv5x5(64)-pool2-FC(512)-FC(classes), ReLU; 'same' padding."""

    def __init__(self, cfg: FLBaselineConfig) -> None:
        super().__init__()
        s = cfg.image_size // 4
        self.features = nn.Sequential(
            nn.Conv2d(cfg.in_channels, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(64 * s * s, 512), nn.ReLU(), nn.Linear(512, cfg.num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, classes]``."""
        return self.head(self.features(x))


def build_classifier(config: FLBaselineConfig) -> nn.Module:
    """The classifier named by ``cfg.arch`` for ``(B, C, H, W)`` inputs."""
    cfg = config
    d = cfg.in_channels * cfg.image_size * cfg.image_size
    if cfg.arch == "cnn":
        if cfg.image_size % 4:
            from zoo.errors import ConfigError

            raise ConfigError(f"the CNN needs image_size divisible by 4, got {cfg.image_size}")
        return MnistCNN(cfg)
    if cfg.arch == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(d, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, cfg.hidden),
                             nn.ReLU(), nn.Linear(cfg.hidden, cfg.num_classes))
    if cfg.arch == "logreg":
        return nn.Sequential(nn.Flatten(), nn.Linear(d, cfg.num_classes))
    from zoo.errors import ConfigError

    raise ConfigError(f"unknown arch {cfg.arch!r}; expected 'cnn', 'mlp' or 'logreg'")
