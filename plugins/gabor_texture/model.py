"""The two-branch network: a CNN semantic branch and a Gabor texture branch on gate-selected regions.

- semantic branch: a timm CNN's feature map ``f`` and its average ``M``;
- region gate: pre-defined proposals (for each ``n`` of ``region_grid``, an ``n x n`` grid of windows); each
  proposal's score is ``sigmoid(w . mean of f inside it)``; the ``regions`` best proposals are *qualified*
  and only they are processed by the texture branch;
- texture branch: each qualified region zoomed to ``S x S``, the Gabor bank, the response statistics, and an
  MLP to the semantic width: ``T_r``;
- fusion: ``logits = fc(M + sum_r g_r T_r)`` (``g_r`` the gate's score, which trains the gate).
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from zoo.compat import import_timm
from zoo_plugins.gabor_texture.config import GaborConfig
from zoo_plugins.gabor_texture.gabor import GaborBank, response_statistics


def proposals(grid: tuple[int, ...]) -> torch.Tensor:
    """Region proposals (P, 4) as normalised (x0, y0, x1, y1): an n x n grid of windows for each n."""
    boxes = [(j / n, i / n, (j + 1) / n, (i + 1) / n) for n in grid for i in range(n) for j in range(n)]
    return torch.tensor(boxes)


def crop(images: torch.Tensor, boxes: torch.Tensor, size: int) -> torch.Tensor:
    """Zoom each (x0, y0, x1, y1) box of each image (images (B, C, H, W), boxes (B, K, 4)) to (B*K, C, size, size)."""
    b, k = boxes.shape[:2]
    flat = boxes.reshape(-1, 4)
    cx, cy = (flat[:, 0] + flat[:, 2]) - 1, (flat[:, 1] + flat[:, 3]) - 1  # centres in [-1, 1]
    sx, sy = flat[:, 2] - flat[:, 0], flat[:, 3] - flat[:, 1]
    theta = torch.zeros(b * k, 2, 3, dtype=images.dtype)
    theta[:, 0, 0], theta[:, 0, 2], theta[:, 1, 1], theta[:, 1, 2] = sx, cx, sy, cy
    grid = F.affine_grid(theta, [b * k, images.shape[1], size, size], align_corners=False)
    return F.grid_sample(images.repeat_interleave(k, dim=0), grid, align_corners=False)


class GaborTextureNet(nn.Module):
    """Semantic CNN + gated Gabor texture branch (module docstring)."""

    def __init__(self, config: GaborConfig) -> None:
        super().__init__()
        self.config = config
        timm = import_timm()
        self.backbone = timm.create_model(config.backbone, pretrained=config.pretrained, num_classes=0, global_pool="")
        dim = int(self.backbone.num_features)
        self.fc = nn.Linear(dim, config.num_classes)
        if config.texture:
            self.register_buffer("boxes", proposals(tuple(config.region_grid)))
            self.gate = nn.Linear(dim, 1)
            self.gabor = GaborBank(config.orientations, config.scales, config.kernel_size, tuple(config.wavelength),
                                   tuple(config.bandwidth), tuple(config.aspect), tuple(config.phase))
            stats = 3 * config.orientations * config.scales
            self.texture = nn.Sequential(nn.LayerNorm(stats), nn.Linear(stats, dim), nn.ReLU(), nn.Linear(dim, dim))

    def gate_scores(self, fmap: torch.Tensor) -> torch.Tensor:
        """Each proposal's score (B, P): the gate on the mean of the feature map inside it."""
        h, w = fmap.shape[-2:]
        ys, xs = (torch.arange(h, dtype=fmap.dtype) + 0.5) / h, (torch.arange(w, dtype=fmap.dtype) + 0.5) / w
        inside = ((xs[None, None, :] >= self.boxes[:, 0, None, None]) & (xs[None, None, :] < self.boxes[:, 2, None, None])
                  & (ys[None, :, None] >= self.boxes[:, 1, None, None]) & (ys[None, :, None] < self.boxes[:, 3, None, None]))
        weights = inside.to(fmap.dtype).flatten(1)
        weights = weights / weights.sum(1, keepdim=True).clamp(min=1)
        pooled = torch.einsum("bcn,pn->bpc", fmap.flatten(2), weights)
        return torch.sigmoid(self.gate(pooled)[..., 0])

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``logits``; with the texture branch also the gate ``scores``, the ``selected`` proposals and
        ``texture`` features (B, K, D)."""
        fmap = self.backbone.forward_features(x)
        semantic = fmap.mean(dim=(-2, -1))
        if not self.config.texture:
            return {"logits": self.fc(semantic), "semantic": semantic}
        scores = self.gate_scores(fmap)
        keep = scores.topk(min(self.config.regions, scores.shape[1]), dim=1)
        regions = crop(x, self.boxes[keep.indices], self.config.region_size)
        texture = self.texture(response_statistics(self.gabor(regions))).reshape(x.shape[0], -1, semantic.shape[1])
        fused = semantic + (keep.values[..., None] * texture).sum(1)
        return {"logits": self.fc(fused), "semantic": semantic, "texture": texture, "scores": scores,
                "selected": keep.indices}


def build(config: GaborConfig, **kwargs: Any) -> GaborTextureNet:
    """Build the network (``config.pretrained`` asks timm for the semantic branch's ImageNet weights)."""
    return GaborTextureNet(config, **kwargs)
