"""Pooling of feature maps into descriptors: GeM, softplus spatial attention, learned-query attention."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def gem(x: torch.Tensor, p: float | torch.Tensor = 3.0, eps: float = 1e-6) -> torch.Tensor:
    """Generalised mean over the spatial axes of (B, C, H, W): ``(mean(clamp(x, eps) ** p)) ** (1 / p)``.

    ``p = 1`` is average pooling; ``p -> inf`` approaches max pooling.
    """
    return x.clamp(min=eps).pow(p).mean(dim=(-2, -1)).pow(1.0 / p)


class GeM(nn.Module):
    """GeM pooling with a fixed or learnable exponent ``p`` (Radenović et al.; DOLG and CFCD use p = 3)."""

    def __init__(self, p: float = 3.0, learnable: bool = False, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        if learnable:
            self.p = nn.Parameter(torch.tensor(float(p)))
        else:
            self.register_buffer("p", torch.tensor(float(p)), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, C)."""
        return gem(x, self.p, self.eps)


class SpatialAttention2d(nn.Module):
    """DELF/DOLG-style attentive local features: 1x1 conv + BN, L2-normalised per position, weighted by a
    softplus attention score from a second 1x1 conv (after a ReLU).

    Returns the attended feature map (B, C_out, H, W) and the attention map (B, 1, H, W).
    """

    def __init__(self, in_channels: int, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 1)
        self.bn = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, 1, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Attended, L2-normalised local features and the softplus attention."""
        h = self.bn(self.conv1(x))
        attention = F.softplus(self.conv2(F.relu(h)))
        return F.normalize(h, dim=1) * attention, attention


class QueryAttentionPool(nn.Module):
    """Learned queries cross-attending to a token set with ``scaled_dot_product_attention``: (B, N, D) ->
    (B, Q, D). One head, no projection of the values; a key padding mask (B, N, True = keep) is supported."""

    def __init__(self, dim: int, queries: int) -> None:
        super().__init__()
        self.queries = nn.Parameter(torch.randn(queries, dim) * dim ** -0.5)
        self.key = nn.Linear(dim, dim, bias=False)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Attention-weighted sums of ``tokens`` for each learned query."""
        q = self.queries.expand(tokens.shape[0], -1, -1)
        attn_mask = None if mask is None else mask[:, None, :].to(torch.bool)
        return F.scaled_dot_product_attention(q, self.key(tokens), tokens, attn_mask=attn_mask)
