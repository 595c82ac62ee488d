"""The small CNN backbone of the ``tiny`` variant, registered with timm as ``zoo_sac_cnn``.

It follows timm's classifier interface (``forward_features`` -> feature map ``[B, C, H, W]``, ``forward_head`` ->
logits, ``num_features``, ``get_classifier``, ``reset_classifier``), so SAC builds every backbone the same way,
``timm.create_model(name, num_classes=..., in_chans=...)``, whether it is this CNN or a ResNet-50.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from zoo.compat import import_timm

NAME = "zoo_sac_cnn"


def _conv_bn(cin: int, cout: int) -> nn.Sequential:
    """3x3 convolution, batch norm, ReLU."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class SmallCNN(nn.Module):
    """conv(w) - conv(2w) - maxpool/2 - conv(2w): an 8x8 digit gives a 2w x 4 x 4 feature map (f = 16)."""

    def __init__(self, num_classes: int = 10, in_chans: int = 1, width: int = 32, drop_rate: float = 0.0) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.in_chans = in_chans
        self.num_features = 2 * width
        self.features = nn.Sequential(
            _conv_bn(in_chans, width), _conv_bn(width, 2 * width), nn.MaxPool2d(2), _conv_bn(2 * width, 2 * width)
        )
        self.drop = nn.Dropout(drop_rate)
        self.fc: nn.Module = nn.Linear(self.num_features, num_classes) if num_classes > 0 else nn.Identity()

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The feature map ``F``: ``[B, 2w, H/2, W/2]``."""
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Global average pooling (the visual feature ``V``), then the linear 1st classifier."""
        v = self.drop(x.mean(dim=(2, 3)))
        return v if pre_logits else self.fc(v)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of the 1st classifier."""
        return self.forward_head(self.forward_features(x))

    def get_classifier(self) -> nn.Module:
        """The final linear layer (timm interface)."""
        return self.fc

    def reset_classifier(self, num_classes: int, global_pool: str | None = None) -> None:
        """Replace the classifier for ``num_classes`` classes (timm interface)."""
        self.num_classes = num_classes
        self.fc = nn.Linear(self.num_features, num_classes) if num_classes > 0 else nn.Identity()


def zoo_sac_cnn(pretrained: bool = False, **kwargs: Any) -> SmallCNN:
    """timm entry point of :class:`SmallCNN` (no pretrained weights exist)."""
    if pretrained:
        raise ValueError(f"{NAME} has no pretrained weights")
    allowed = {"num_classes", "in_chans", "width", "drop_rate"}
    return SmallCNN(**{k: v for k, v in kwargs.items() if k in allowed and v is not None})


def register() -> None:
    """Register :func:`zoo_sac_cnn` with timm once (idempotent)."""
    timm = import_timm()
    if not timm.models.is_model(NAME):
        timm.models.register_model(zoo_sac_cnn)


def create_backbone(name: str, *, num_classes: int, in_chans: int, pretrained: bool = False,
                    width: int | None = None) -> nn.Module:
    """Any timm classifier by name (``zoo_sac_cnn`` included) with ``num_classes`` outputs."""
    register()
    timm = import_timm()
    kwargs: dict[str, Any] = {"num_classes": num_classes, "in_chans": in_chans}
    if name == NAME and width is not None:
        kwargs["width"] = width
    return timm.create_model(name, pretrained=pretrained, **kwargs)
