"""LDL-VA network: a timm backbone (features v), a linear classifier (f = softmax), the calibration MLP g and the
class centres mu used by the discriminative loss. Only the backbone and classifier run at inference."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from zoo_plugins.ldl_va.config import LDLVAConfig


def build_backbone(config: LDLVAConfig) -> nn.Module:
    """``timm.create_model(config.backbone, pretrained=False, num_classes=0)`` with the tiny overrides applied."""
    from zoo.compat import import_timm

    timm = import_timm()
    kwargs: dict[str, Any] = {}
    if config.backbone_layers:
        kwargs["layers"] = tuple(config.backbone_layers)
    if config.backbone_channels:
        kwargs["channels"] = tuple(config.backbone_channels)
    if config.stem_width:
        kwargs["stem_width"] = config.stem_width
    return timm.create_model(config.backbone, pretrained=False, num_classes=0, **kwargs)


class Calibration(nn.Module):
    """g([v_i, v_k]; phi): Linear -> BN -> ReLU per hidden width, then Linear(1); zeta = sigmoid(g) (optionally
    with the code's clamp of g at ``clamp_min``)."""

    def __init__(self, feature_dim: int, hidden: tuple[int, ...], clamp_min: float | None) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        prev = 2 * feature_dim
        for width in hidden:
            layers += [nn.Linear(prev, width), nn.BatchNorm1d(width), nn.ReLU(inplace=True)]
            prev = width
        layers.append(nn.Linear(prev, 1))
        self.mlp = nn.Sequential(*layers)
        self.clamp_min = clamp_min

    def forward(self, v_i: torch.Tensor, v_k: torch.Tensor) -> torch.Tensor:
        """``v_i`` (B, V), ``v_k`` (B, K, V) -> zeta (B, K) in (0, 1)."""
        b, k, d = v_k.shape
        pairs = torch.cat([v_i.unsqueeze(1).expand(b, k, d), v_k], dim=-1).reshape(b * k, 2 * d)
        score = self.mlp(pairs).view(b, k)
        if self.clamp_min is not None:
            score = score.clamp(min=self.clamp_min)
        return torch.sigmoid(score)


class LDLVANet(nn.Module):
    """``forward(x)`` -> (logits (B, C), features v (B, V)); ``calibration`` and ``centers`` serve training."""

    def __init__(self, config: LDLVAConfig) -> None:
        super().__init__()
        self.config = config
        self.backbone = build_backbone(config)
        dim = int(self.backbone.num_features)
        self.feature_dim = dim
        self.classifier = nn.Linear(dim, config.num_classes)
        self.calibration = Calibration(dim, tuple(config.calibration_hidden),
                                       config.calibration_clamp_min if config.calibration_clamp else None)
        self.centers = nn.Parameter(torch.zeros(config.num_classes, dim))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Faces (B, 3, S, S) -> (logits, pooled backbone features)."""
        v = self.backbone(x)
        return self.classifier(v), v
