"""GLAMOR-Net: face and context encoders, Global-Local Attention, adaptive fusion, classifier.

Shapes (paper variant): face (B, 3, 96, 96) -> F_f (B, 256, 6, 6) -> v_f = GAP(F_f) (B, 256); masked context
(B, 3, 112, 112) -> F_c (B, 256, 7, 7) = 49 cells v_ij. GLA: s_ij = FFN([v_f; v_ij]), a = softmax over the cells,
v_c = sum_ij a_ij v_ij. Fusion: s_f = F(v_f; phi_f), s_c = F(v_c; phi_c), (w_f, w_c) = softmax(s_f, s_c),
v_f <- w_f v_f, v_c <- w_c v_c, concatenate and classify.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from zoo_plugins.glamor_net.config import GlamorConfig


@dataclass
class GlamorOutput:
    """``logits`` (B, C); ``attention`` (B, h, w) over the context cells (sums to 1 per sample);
    ``fusion_weights`` (B, 2) = (w_f, w_c), or 1 for the single branch when only one is fused."""

    logits: torch.Tensor
    attention: torch.Tensor
    fusion_weights: torch.Tensor


class ConvEncoder(nn.Module):
    """Five (configurable) conv3x3 "same" -> BN -> ReLU layers, a 2x2 max-pool after each of the first ``pools``."""

    def __init__(self, channels: Sequence[int], pools: int, in_channels: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        prev = in_channels
        for i, out in enumerate(channels):
            layers += [nn.Conv2d(prev, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
            if i < pools:
                layers.append(nn.MaxPool2d(2))
            prev = out
        self.body = nn.Sequential(*layers)
        self.out_channels = prev

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, D, H / 2^pools, W / 2^pools)."""
        return self.body(x)


class GlobalLocalAttention(nn.Module):
    """Scores every context cell against the face vector and pools the cells with the softmax of the scores.

    ``mode="gla"``: s_ij = FFN([v_f; v_ij]) (the paper). ``"ca"``: s_ij = FFN(v_ij) (context-only attention, the
    ablation's CA). ``"none"``: uniform weights (average pooling). FFN = Linear -> BN -> ReLU -> Linear(1).
    """

    def __init__(self, face_dim: int, context_dim: int, hidden: int, mode: str = "gla") -> None:
        super().__init__()
        self.mode = mode
        in_dim = face_dim + context_dim if mode == "gla" else context_dim
        self.score = None if mode == "none" else nn.Sequential(
            nn.Linear(in_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True), nn.Linear(hidden, 1))

    def forward(self, v_f: torch.Tensor, context_map: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``v_f`` (B, Df), ``context_map`` (B, Dc, h, w) -> (v_c (B, Dc), attention (B, h, w))."""
        b, d, h, w = context_map.shape
        cells = context_map.flatten(2).transpose(1, 2)  # (B, hw, Dc): v_ij
        if self.score is None:
            scores = cells.new_zeros(b, h * w)
        else:
            feats = cells if self.mode == "ca" else torch.cat([v_f.unsqueeze(1).expand(b, h * w, v_f.shape[1]),
                                                               cells], dim=-1)
            scores = self.score(feats.reshape(b * h * w, -1)).view(b, h * w)
        attention = scores.softmax(dim=1)
        v_c = torch.bmm(attention.unsqueeze(1), cells).squeeze(1)
        return v_c, attention.view(b, h, w)


class ResNetEncoder(nn.Module):
    """A ResNet-18 trunk (timm ``resnet18`` without pooling and classifier): (B, 3, H, W) -> (B, 512, H/32, W/32)."""

    def __init__(self, pretrained: bool = False) -> None:
        super().__init__()
        from zoo.compat import import_timm

        self.trunk = import_timm().create_model("resnet18", pretrained=pretrained, num_classes=0, global_pool="")
        self.out_channels = int(self.trunk.num_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The last feature map."""
        return self.trunk.forward_features(x)


def build_encoder(config: GlamorConfig, channels: Sequence[int]) -> nn.Module:
    """The face or context encoder of ``config.encoder``."""
    if config.encoder == "resnet18":
        return ResNetEncoder(config.pretrained)
    return ConvEncoder(channels, config.pool_layers)


def _scorer(dim: int, hidden: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, 1))


class AdaptiveFusion(nn.Module):
    """w_f, w_c = softmax(F(v_f; phi_f), F(v_c; phi_c)); returns [w_f v_f; w_c v_c] and the weights."""

    def __init__(self, face_dim: int, context_dim: int, hidden: int) -> None:
        super().__init__()
        self.face_score = _scorer(face_dim, hidden)
        self.context_score = _scorer(context_dim, hidden)

    def forward(self, v_f: torch.Tensor, v_c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, Df), (B, Dc) -> ((B, Df + Dc), (B, 2))."""
        weights = torch.cat([self.face_score(v_f), self.context_score(v_c)], dim=1).softmax(dim=1)
        return torch.cat([v_f * weights[:, :1], v_c * weights[:, 1:]], dim=1), weights


class GlamorNet(nn.Module):
    """The whole network; ``forward(face, context)`` -> :class:`GlamorOutput`."""

    def __init__(self, config: GlamorConfig) -> None:
        super().__init__()
        self.config = config
        self.face_encoder = build_encoder(config, config.face_channels)
        self.context_encoder = build_encoder(config, config.context_channels)
        df, dc = self.face_encoder.out_channels, self.context_encoder.out_channels
        self.attention = GlobalLocalAttention(df, dc, config.gla_hidden, config.attention)
        self.fusion = AdaptiveFusion(df, dc, config.fusion_hidden) if config.fusion_inputs == "face+context" else None
        fused = {"face+context": df + dc, "face": df, "context": dc}[config.fusion_inputs]
        self.classifier = nn.Sequential(nn.Linear(fused, config.classifier_hidden), nn.ReLU(inplace=True),
                                        nn.Dropout(config.dropout), nn.Linear(config.classifier_hidden,
                                                                             config.num_classes))

    def forward(self, face: torch.Tensor, context: torch.Tensor) -> GlamorOutput:
        """``face`` (B, 3, Hf, Wf) crop, ``context`` (B, 3, Hc, Wc) whole image with the face masked to zero."""
        v_f = self.face_encoder(face).mean(dim=(2, 3))  # global average pooling of F_f
        v_c, attention = self.attention(v_f, self.context_encoder(context))
        if self.fusion is not None:
            fused, weights = self.fusion(v_f, v_c)
        else:
            fused = v_f if self.config.fusion_inputs == "face" else v_c
            weights = fused.new_ones(fused.shape[0], 1)
        return GlamorOutput(self.classifier(fused), attention, weights)
