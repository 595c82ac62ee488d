"""PRAO's networks: the pose repair module and the dual-channel feature extraction module (DCFE).

DCFE: a ResNet feature map ``G`` (C, h, w) and 17 keypoint heatmaps ``H`` (from a pose head on ``G``); global
feature ``F_g = GAP(G)`` with an identity classifier; local features ``F_l = GAP(G (x) H)`` (17 x C: the feature
map broadcast against each heatmap, averaged over positions) followed by batch normalisation; keypoint
confidences ``C_i`` (each heatmap's maximum); and the distance measure of two images' local features
``d = sigmoid(f(|F_l1 - F_l2|))`` with ``f`` a fully connected layer (Eq. 4): the probability that they show
the same person.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from zoo.compat import import_timm
from zoo_plugins.prao.config import PRAOConfig
from zoo_plugins.prao.repair import Discriminator, Generator, OcclusionSegmenter


def keypoint_heatmaps(keypoints: torch.Tensor, visible: torch.Tensor, size: tuple[int, int],
                      sigma: float) -> torch.Tensor:
    """Gaussian heatmaps (B, K, h, w) peaking at 1 on each visible keypoint (normalised (x, y)); hidden: 0."""
    h, w = size
    ys, xs = (torch.arange(h) + 0.5)[:, None], (torch.arange(w) + 0.5)[None, :]
    px, py = keypoints[..., 0, None, None] * w, keypoints[..., 1, None, None] * h
    maps = torch.exp(-((xs - px) ** 2 + (ys - py) ** 2) / (2 * sigma ** 2))
    return maps * visible[..., None, None]


def pose_pooling(features: torch.Tensor, heatmaps: torch.Tensor) -> torch.Tensor:
    """``F_l = GAP(G (x) H)``: (B, C, h, w) features broadcast against (B, K, h, w) heatmaps and averaged over
    positions -> (B, K, C)."""
    return torch.einsum("bchw,bkhw->bkc", features, heatmaps) / (features.shape[-2] * features.shape[-1])


class DCFE(nn.Module):
    """Backbone, pose head, global classifier, local BN and the distance head (module docstring)."""

    def __init__(self, config: PRAOConfig) -> None:
        super().__init__()
        timm = import_timm()
        self.config = config
        self.backbone = timm.create_model(config.backbone, pretrained=config.pretrained, features_only=True,
                                          out_indices=(-1,), output_stride=config.output_stride)
        c = self.backbone.feature_info.channels()[-1]
        self.channels = c
        self.pose = nn.Sequential(nn.Conv2d(c, c // 2, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(c // 2, config.keypoints, 1))
        self.classifier = nn.Linear(c, config.num_classes)
        self.local_bn = nn.BatchNorm1d(c)
        self.distance = nn.Linear(config.keypoints * c, 1)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``global``, ``logits``, ``heatmaps``, ``confidence`` (B, K) and ``local`` (B, K, C) features."""
        g = self.backbone(x)[-1]
        heatmaps = torch.sigmoid(self.pose(g))
        local = pose_pooling(g, heatmaps)
        local = self.local_bn(local.flatten(0, 1)).reshape(local.shape)
        pooled = g.mean(dim=(-2, -1))
        return {"global": pooled, "logits": self.classifier(pooled), "heatmaps": heatmaps,
                "confidence": heatmaps.flatten(2).amax(-1), "local": local}

    def measure(self, local_a: torch.Tensor, local_b: torch.Tensor) -> torch.Tensor:
        """Eq. 4: the same-person probability of paired local features (B, K, C) x (B, K, C) -> (B,)."""
        return torch.sigmoid(self.distance((local_a - local_b).abs().flatten(1))[:, 0])


class PRAO(nn.Module):
    """The pose repair module (segmenter, e-GAN generator and discriminator) and DCFE."""

    def __init__(self, config: PRAOConfig) -> None:
        super().__init__()
        self.config = config
        self.segmenter = OcclusionSegmenter(config.gan_width)
        self.generator = Generator(config.gan_width)
        self.discriminator = Discriminator(config.gan_width)
        self.dcfe = DCFE(config)

    @torch.no_grad()
    def repair(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mask the detected occluders (probability > 0.5) and inpaint them: (repaired images, masks)."""
        mask = (torch.sigmoid(self.segmenter(x)) > 0.5).to(x.dtype)
        return self.generator(x, mask), mask

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """DCFE on the repaired images."""
        return self.dcfe(self.repair(x)[0])


def build(config: PRAOConfig, **kwargs: Any) -> PRAO:
    """Build PRAO (``config.pretrained`` asks timm for the backbone's ImageNet weights)."""
    return PRAO(config, **kwargs)
