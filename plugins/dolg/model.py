"""DOLG's network: a timm backbone tapped at res4 and res5, a local branch, a global branch, orthogonal fusion.

- local branch on f3: the multi-atrous block (1x1 conv and three dilated 3x3 convs, plus an image-pooling branch,
  concatenated and projected by a 1x1 conv + ReLU), then the self-attention module (1x1 conv + BN, L2-normalised
  per position, times a softplus attention map): ``f_l`` (B, C, H, W);
- global branch on f4: GeM (p = 3) and a linear layer to C: ``f_g`` (B, C);
- orthogonal fusion: each local vector minus its projection on ``f_g``,
  ``f_orth = f_l - (f_l . f_g) f_g / ||f_g||^2``, average-pooled to C, concatenated with ``f_g`` and projected
  to the descriptor (512-d in the paper);
- ArcFace head for training (the descriptor is L2-normalised for retrieval).
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from zoo.engines.retrieval.backbones import stage_backbone
from zoo.engines.retrieval.heads import ArcFace
from zoo.engines.retrieval.pooling import GeM, SpatialAttention2d
from zoo_plugins.dolg.config import DOLGConfig


class MultiAtrous(nn.Module):
    """1x1 conv + dilated 3x3 convs + image pooling, concatenated, then 1x1 conv + ReLU to ``out_channels``."""

    def __init__(self, in_channels: int, branch: int, out_channels: int, dilations: tuple[int, ...]) -> None:
        super().__init__()
        self.branches = nn.ModuleList([nn.Conv2d(in_channels, branch, 1)] + [
            nn.Conv2d(in_channels, branch, 3, padding=d, dilation=d) for d in dilations])
        self.image_pool = nn.Conv2d(in_channels, branch, 1)
        self.project = nn.Conv2d(branch * (len(dilations) + 2), out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, H, W) -> (B, out_channels, H, W)."""
        pooled = F.relu(self.image_pool(x.mean(dim=(-2, -1), keepdim=True))).expand(-1, -1, *x.shape[-2:])
        return F.relu(self.project(torch.cat([b(x) for b in self.branches] + [pooled], dim=1)))


def orthogonal_component(local: torch.Tensor, global_: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """``f_l - (f_l . f_g) f_g / ||f_g||^2`` at every position of ``local`` (B, C, H, W), ``global_`` (B, C)."""
    dot = torch.einsum("bchw,bc->bhw", local, global_)
    scale = dot / global_.pow(2).sum(1).clamp(min=eps)[:, None, None]
    return local - scale[:, None] * global_[:, :, None, None]


class DOLG(nn.Module):
    """The DOLG descriptor network with its ArcFace training head (module docstring)."""

    def __init__(self, config: DOLGConfig) -> None:
        super().__init__()
        self.config = config
        self.backbone, channels, _ = stage_backbone(config.backbone, tuple(config.stages), config.pretrained)
        c3, c4 = channels
        self.gem = GeM(config.gem_p)
        if config.local_branch:
            self.multi_atrous = (MultiAtrous(c3, config.aspp_dim, config.local_dim, tuple(config.dilations))
                                 if config.multi_atrous else None)
            self.attention = SpatialAttention2d(config.local_dim if config.multi_atrous else c3, config.local_dim)
            self.fc_global = nn.Linear(c4, config.local_dim)
            self.fc = nn.Linear(2 * config.local_dim, config.dim)
        else:
            self.fc = nn.Linear(c4, config.dim)
        self.head = ArcFace(config.dim, config.num_classes, config.arcface_scale, config.arcface_margin,
                            config.curricular)

    def features(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Descriptor (un-normalised) and the intermediate maps: global, local, orthogonal, attention."""
        f3, f4 = self.backbone(x)
        pooled = self.gem(f4)
        if not self.config.local_branch:
            return {"descriptor": self.fc(pooled)}
        local, attention = self.attention(self.multi_atrous(f3) if self.multi_atrous is not None else f3)
        global_ = self.fc_global(pooled)
        orth = orthogonal_component(local, global_)
        return {"descriptor": self.fuse(orth, global_), "global": global_, "local": local, "orthogonal": orth,
                "attention": attention}

    def fuse(self, orthogonal: torch.Tensor, global_: torch.Tensor) -> torch.Tensor:
        """Average-pool the orthogonal map, concatenate it with the global vector, project to the descriptor."""
        return self.fc(torch.cat([global_, orthogonal.mean(dim=(-2, -1))], dim=1))

    def descriptor(self, x: torch.Tensor) -> torch.Tensor:
        """The L2-normalised retrieval descriptor (B, dim)."""
        return F.normalize(self.features(x)["descriptor"], dim=-1)

    def forward(self, x: torch.Tensor, targets: torch.Tensor | None = None) -> torch.Tensor:
        """ArcFace logits (with the margin when ``targets`` are given)."""
        return self.head(self.features(x)["descriptor"], targets)


def build(config: DOLGConfig, **kwargs: Any) -> DOLG:
    """Build DOLG (``config.pretrained`` asks timm for ImageNet weights)."""
    return DOLG(config, **kwargs)
