"""BEVPlace's network: group features of a BEV image, a bilinear group convolution, NetVLAD.

1. **Group sampling**: the BEV image is warped by every element ``g = s R(a)`` of the group (scales x
   rotations, about the image centre); a light CNN (shared weights) extracts L2-normalised feature maps, and each
   dense keypoint ``p`` of the original image reads the warped map at ``g p``. A keypoint thus gets a
   (C, scales, rotations) *group feature*; rotating the input by a group rotation shifts its rotation axis.
2. **Group convolution**: two small convolution towers over the (scales, rotations) grid (circular along
   rotations when the group covers the full circle) and a bilinear product summed over the group:
   ``u (f1 x G) @ v^T (G x f2)`` -> a rotation-invariant local feature of ``f1 * f2`` dims (L2-normalised).
3. **NetVLAD**: soft assignment of the local features to ``K`` clusters, residual sums, intra- and global
   L2 normalisation -> the ``K * D`` global descriptor.
"""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from zoo_plugins.bevplace.config import BEVPlaceConfig


def group_elements(config: BEVPlaceConfig) -> list[tuple[float, float]]:
    """(scale, angle in radians) of every group element, scale-major."""
    return [(config.scale_step ** i, math.radians(config.rotation_start + j * config.rotation_step))
            for i in range(config.scales) for j in range(config.rotations)]


def keypoints(size: int, step: int) -> torch.Tensor:
    """Dense keypoints (N, 2) as normalised (x, y) in [-1, 1] (align_corners convention): a grid of pixels
    ``step`` apart, centred on the image, inside the inscribed disc (where BEV points are)."""
    half = size // 2
    offsets = torch.arange(-(half // step) * step, half + 1, step, dtype=torch.float32)
    yy, xx = torch.meshgrid(offsets, offsets, indexing="ij")
    pts = torch.stack([xx.flatten(), yy.flatten()], 1) / half
    return pts[pts.norm(dim=1) <= 1.0 + 1e-6]


def _matrix(scale: float, angle: float) -> torch.Tensor:
    c, s = math.cos(angle), math.sin(angle)
    return torch.tensor([[scale * c, -scale * s], [scale * s, scale * c]])


class Extractor(nn.Module):
    """The light CNN shared by all group elements (5x5 convs with instance norm, one 2x average pooling)."""

    def __init__(self, channels: tuple[int, int]) -> None:
        super().__init__()
        a, b = channels
        block = lambda i, o, act=True: [nn.Conv2d(i, o, 5, padding=2, bias=False), nn.InstanceNorm2d(o)] + (  # noqa: E731
            [nn.ReLU()] if act else [])
        self.net = nn.Sequential(*block(1, a), *block(a, b), nn.AvgPool2d(2), *block(b, b), *block(b, b, False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) -> L2-normalised (B, C, H/2, W/2)."""
        return F.normalize(self.net(x), dim=1)


class GroupConv(nn.Module):
    """Two conv towers over the (scales, rotations) group grid and their bilinear product over the group."""

    def __init__(self, in_channels: int, tower: tuple[int, int, int], circular: bool) -> None:
        super().__init__()
        width, f1, f2 = tower
        self.circular = circular
        self.towers = nn.ModuleList([nn.ModuleList([nn.Conv2d(in_channels, width, 3), nn.Conv2d(width, f, 3)])
                                     for f in (f1, f2)])

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (0, 0, 1, 1))  # scales: zero padding
        return F.pad(x, (1, 1, 0, 0), mode="circular" if self.circular else "constant")  # rotations

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(M, C, scales, rotations) group features -> (M, f1 * f2) invariant local features."""
        outs = []
        for first, second in self.towers:
            h = F.relu(first(self._pad(x)))
            outs.append(second(self._pad(h)).flatten(2))  # (M, f, G)
        return F.normalize(torch.bmm(outs[0], outs[1].transpose(1, 2)).flatten(1), dim=1)


class NetVLAD(nn.Module):
    """NetVLAD (Arandjelovic et al.): soft-assigned residual sums, intra-normalised, then L2-normalised."""

    def __init__(self, clusters: int, dim: int) -> None:
        super().__init__()
        self.assign = nn.Linear(dim, clusters, bias=False)
        self.centroids = nn.Parameter(torch.rand(clusters, dim))

    @torch.no_grad()
    def initialise(self, features: torch.Tensor, seed: int = 0) -> None:
        """NetVLAD's initialisation: k-means centroids of sample local features (N, D), and assignment weights
        ``alpha * c_k / ||c_k||`` with ``alpha`` making the two nearest centroids' scores differ by log 100."""
        from sklearn.cluster import KMeans

        data = features.detach().double().numpy()
        k = self.centroids.shape[0]
        centres = torch.from_numpy(KMeans(k, n_init=3, random_state=seed).fit(data).cluster_centers_).float()
        unit = F.normalize(centres, dim=1)
        dots = (torch.from_numpy(data).float() @ unit.T).sort(dim=1, descending=True).values
        alpha = -math.log(0.01) / float((dots[:, 0] - dots[:, 1]).mean().clamp(min=1e-6))
        self.centroids.copy_(centres)
        self.assign.weight.copy_(alpha * unit)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, D) local features -> (B, K * D)."""
        weights = self.assign(x).softmax(dim=-1)  # (B, N, K)
        vlad = torch.einsum("bnk,bnd->bkd", weights, x) - weights.sum(1)[..., None] * self.centroids[None]
        return F.normalize(F.normalize(vlad, dim=-1).flatten(1), dim=-1)


class BEVPlace(nn.Module):
    """Group features -> group convolution -> NetVLAD (module docstring)."""

    def __init__(self, config: BEVPlaceConfig) -> None:
        super().__init__()
        self.config = config
        self.extractor = Extractor(tuple(config.channels))
        self.group = GroupConv(config.channels[1], tuple(config.tower), config.circular)
        self.netvlad = NetVLAD(config.clusters, config.local_dim)
        self.register_buffer("transforms", torch.stack([_matrix(s, a) for s, a in group_elements(config)]))
        self.register_buffer("points", keypoints(config.size, config.keypoint_step))

    def group_features(self, bev: torch.Tensor) -> torch.Tensor:
        """(B, N, C, scales, rotations) features of every keypoint under every group element."""
        b = bev.shape[0]
        feats = []
        for t in self.transforms:
            inverse = torch.linalg.inv(t)
            theta = torch.cat([inverse, torch.zeros(2, 1)], dim=1).expand(b, 2, 3)
            grid = F.affine_grid(theta, list(bev.shape), align_corners=True)
            fmap = self.extractor(F.grid_sample(bev, grid, align_corners=True))
            where = (self.points @ t.T).expand(b, 1, -1, 2)
            feats.append(F.grid_sample(fmap, where, align_corners=True)[:, :, 0])  # (B, C, N)
        stacked = torch.stack(feats, dim=-1)  # (B, C, N, G)
        c, n = stacked.shape[1:3]
        return stacked.permute(0, 2, 1, 3).reshape(b, n, c, self.config.scales, self.config.rotations)

    def forward(self, bev: torch.Tensor) -> dict[str, torch.Tensor]:
        """``local`` (B, N, D) rotation-invariant features and the ``global`` NetVLAD descriptor."""
        group = self.group_features(bev)
        b, n = group.shape[:2]
        local = self.group(group.flatten(0, 1)).reshape(b, n, -1)
        return {"local": local, "global": self.netvlad(local)}

    def descriptor(self, bev: torch.Tensor) -> torch.Tensor:
        """The global descriptor (L2-normalised)."""
        return self.forward(bev)["global"]


def build(config: BEVPlaceConfig, **kwargs: Any) -> BEVPlace:
    """Build BEVPlace (no pretrained weights: the paper trains from scratch)."""
    return BEVPlace(config, **kwargs)
