"""CFCD's network: a timm backbone, GeM -> FC -> BN global descriptor with a MadaCos head, and prominent local
descriptors (the feature vectors of one tapped map, ranked by the attention ``sum_c |f_c|``)."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from zoo.engines.retrieval.backbones import stage_backbone
from zoo.engines.retrieval.heads import MadaCos
from zoo.engines.retrieval.pooling import GeM
from zoo_plugins.cfcd.config import CFCDConfig


def local_attention(feature_map: torch.Tensor) -> torch.Tensor:
    """CFCD's attention over positions: the channel-wise sum of absolute activations, (B, C, H, W) -> (B, H*W)."""
    return feature_map.abs().sum(dim=1).flatten(1)


class CFCD(nn.Module):
    """Global descriptor (GeM on the last map, FC, BN1d), MadaCos head, and local descriptors with attention."""

    def __init__(self, config: CFCDConfig) -> None:
        super().__init__()
        self.config = config
        self.backbone, channels, _ = stage_backbone(config.backbone, tuple(config.stages), config.pretrained)
        self.gem = GeM(config.gem_p)
        self.fc = nn.Linear(channels[-1], config.dim)
        self.bn = nn.BatchNorm1d(config.dim)
        self.head = MadaCos(config.dim, config.num_classes, config.alpha, config.min_scale)

    def features(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``global`` (B, dim) before normalisation, ``local`` (B, H*W, C) descriptors and their ``attention``."""
        maps = self.backbone(x)
        local_map = maps[self.config.local_stage]
        return {"global": self.bn(self.fc(self.gem(maps[-1]))),
                "local": local_map.flatten(2).transpose(1, 2), "attention": local_attention(local_map)}

    def descriptor(self, x: torch.Tensor) -> torch.Tensor:
        """The L2-normalised global descriptor (what single-stage retrieval searches with)."""
        return F.normalize(self.features(x)["global"], dim=-1)

    def forward(self, x: torch.Tensor, targets: torch.Tensor | None = None) -> torch.Tensor:
        """MadaCos logits (adaptive scale and margin when ``targets`` are given)."""
        return self.head(self.features(x)["global"], targets)


def build(config: CFCDConfig, **kwargs: Any) -> CFCD:
    """Build CFCD (``config.pretrained`` asks timm for ImageNet weights)."""
    return CFCD(config, **kwargs)
