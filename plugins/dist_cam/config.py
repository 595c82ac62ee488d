"""Variant configs of Dist-CAM's metric-learning model (frozen dataclasses, JSON-able, no torch import)."""
from __future__ import annotations

from dataclasses import dataclass

from zoo.errors import ConfigError


@dataclass(frozen=True)
class DistCAMConfig:
    """The metric model, its training and the localisation protocol.

    Model: ``backbone`` ``cnn`` (``blocks`` conv blocks of ``width`` channels, the first ``pools`` followed by 2x2
        max-pooling) or a timm model name (``resnet50``...: its last feature map, the classifier removed);
        ``head`` ``prototype`` (the metric model: logits = -||GAP(Q) - P_c||^2 to class prototypes) or ``fc``
        (the softmax baseline that CAM explains); num_classes, in_channels, image_size.
    Training: Adam at ``lr``, ``steps`` of ``batch_size``.
    Data (tiny): digits scaled to ``digit_size`` placed at a random position of an ``image_size`` canvas with
        ``clutter`` random strokes of background; ``data_size`` images per split.
    Localisation: a box around the largest connected region above ``threshold`` x the map's maximum (CAM's
        protocol), correct when IoU >= ``iou`` and the class is right (top-1 localisation).
    """

    backbone: str = "cnn"
    head: str = "prototype"
    width: int = 32
    blocks: int = 3
    pools: int = 2
    num_classes: int = 10
    in_channels: int = 1
    image_size: int = 32
    lr: float = 2e-3
    batch_size: int = 64
    steps: int = 600
    digit_size: int = 12
    clutter: int = 3
    data_size: int = 2000
    threshold: float = 0.2
    iou: float = 0.5

    def __post_init__(self) -> None:
        if self.head not in ("prototype", "fc"):
            raise ConfigError(f"DistCAMConfig.head must be 'prototype' or 'fc', got {self.head!r}")
        if self.backbone == "cnn" and not 0 <= self.pools <= self.blocks:
            raise ConfigError(f"pools must be between 0 and blocks ({self.blocks}), got {self.pools}")


def tiny() -> DistCAMConfig:
    """A 3-block CNN (32 channels, 8x8 feature maps) on 32x32 canvases with one 12x12 digit and clutter."""
    return DistCAMConfig()


def paper() -> DistCAMConfig:
    """Sect. 3: ResNet-50 without GAP/FC, 224x224 -> 2048x7x7 feature maps, GAP -> 2048-d features,
    nearest of 1000 class prototypes (class means of the training features, Eq. 7)."""
    return DistCAMConfig(backbone="resnet50", num_classes=1000, in_channels=3, image_size=224, batch_size=256,
                         steps=450_000, lr=1e-3)
