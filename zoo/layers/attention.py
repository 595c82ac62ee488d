"""Channel and spatial attention gates (pure PyTorch), each as its paper defines it.

=============================  ===========================================================================================
:class:`SqueezeExcitation`     SE (Hu et al., CVPR 2018): ``s = sigmoid(W2 relu(W1 GAP(x)))``, ``y = s * x``
:class:`EfficientChannel`      ECA (Wang et al., CVPR 2020): ``s = sigmoid(conv1d_k(GAP(x)))`` over channels,
                               ``k = |(log2 C + b) / gamma|_odd`` (:func:`eca_kernel_size`)
:class:`CBAMChannel`           CBAM's channel gate (Woo et al., ECCV 2018): ``sigmoid(MLP(avg) + MLP(max))``, shared MLP
:class:`PoolConvMask`          spatial mask ``sigmoid(sum_k conv_k([mean_c x; max_c x]))`` (CBAM: one 7x7 conv)
:class:`SpatialGate`           ``y = x * mask(x, *context)`` with a pluggable mask generator (any module or callable)
:class:`CBAM`                  channel gate, then ``SpatialGate(PoolConvMask(7))``
:class:`CoordinateAttention`   Hou et al., CVPR 2021: direction-aware pooling along H and W, a shared 1x1 conv + BN +
                               h-swish, then ``y = x * sigmoid(conv_h) * sigmoid(conv_w)``
:func:`channel_attention`      one factory: ``channel_attention("se" | "eca" | "cbam" | "coord", channels, **kw)``
=============================  ===========================================================================================

Every channel module has ``gate(x)`` (the attention weights, broadcastable to ``x``) and ``forward(x) = x * gate``;
:class:`SpatialGate` keeps the last mask it applied in ``last_mask`` when ``keep_mask=True`` (for visualisation).
``tests/shared/test_attention.py`` checks each against its definition on hand-made tensors, against timm's
implementation with copied weights where timm has one, and pins parameter counts.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from zoo.errors import ConfigError

__all__ = [
    "CBAM", "CBAMChannel", "CoordinateAttention", "EfficientChannel", "KINDS", "PoolConvMask", "SpatialGate",
    "SqueezeExcitation", "channel_attention", "eca_kernel_size", "reduced",
]


def reduced(channels: int, reduction: float, minimum: int = 1) -> int:
    """Width of a bottleneck: ``max(minimum, channels // reduction)`` (the papers' ``C / r``, floored)."""
    if channels < 1 or reduction <= 0:
        raise ConfigError(f"attention: channels must be >= 1 and reduction > 0, got {channels} and {reduction}")
    return max(minimum, int(channels // reduction))


def eca_kernel_size(channels: int, gamma: float = 2.0, b: float = 1.0) -> int:
    """ECA's adaptive kernel size: ``t = int(|(log2 C + b) / gamma|)``, made odd by adding one when even."""
    t = int(abs((math.log2(channels) + b) / gamma))
    return t if t % 2 else t + 1


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation: ``y = x * sigmoid(W2 relu(W1 GAP(x) + b1) + b2)``.

    ``W1`` maps C to ``C // reduction`` (or ``hidden``) channels, ``W2`` back to C. 2C*C/r + C/r + C parameters.
    """

    def __init__(self, channels: int, reduction: float = 16, hidden: int | None = None, bias: bool = True) -> None:
        super().__init__()
        hidden = hidden or reduced(channels, reduction)
        self.fc1 = nn.Conv2d(channels, hidden, 1, bias=bias)
        self.fc2 = nn.Conv2d(hidden, channels, 1, bias=bias)

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """The channel weights ``[B, C, 1, 1]`` in (0, 1)."""
        return torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean((2, 3), keepdim=True)))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class EfficientChannel(nn.Module):
    """ECA: a 1-D convolution of size ``k`` across the pooled channel descriptor, no bias, sigmoid: k parameters.

    ``kernel_size=None`` takes ECA's adaptive size from the channel count (``gamma=2``, ``b=1``).
    """

    def __init__(self, channels: int, kernel_size: int | None = None, gamma: float = 2.0, b: float = 1.0) -> None:
        super().__init__()
        k = kernel_size or eca_kernel_size(channels, gamma, b)
        if k % 2 == 0:
            raise ConfigError(f"ECA: the kernel size must be odd, got {k}")
        self.conv = nn.Conv1d(1, 1, k, padding=(k - 1) // 2, bias=False)

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """The channel weights ``[B, C, 1, 1]``."""
        y = x.mean((2, 3))  # [B, C]
        return torch.sigmoid(self.conv(y.unsqueeze(1))).squeeze(1)[:, :, None, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class CBAMChannel(nn.Module):
    """CBAM's channel attention: ``sigmoid(MLP(avgpool x) + MLP(maxpool x))`` with one shared two-layer MLP
    (C -> C/r -> C, ReLU between; biases as in the authors' code, ``bias=False`` as in timm)."""

    def __init__(self, channels: int, reduction: float = 16, bias: bool = True) -> None:
        super().__init__()
        hidden = reduced(channels, reduction)
        self.fc1 = nn.Conv2d(channels, hidden, 1, bias=bias)
        self.fc2 = nn.Conv2d(hidden, channels, 1, bias=bias)

    def _mlp(self, v: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(v)))

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """The channel weights ``[B, C, 1, 1]``."""
        return torch.sigmoid(self._mlp(x.mean((2, 3), keepdim=True)) + self._mlp(x.amax((2, 3), keepdim=True)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class PoolConvMask(nn.Module):
    """A spatial mask ``sigmoid(sum_k conv_k(P))``, ``P = [mean over channels; max over channels]`` (``[B, 2, H, W]``).

    One 7x7 convolution is CBAM's spatial attention (``norm=True`` adds the batch norm of the authors' code, then
    the convolutions have no bias); several ``kernel_sizes`` sum parallel convolutions (multi-scale masks).
    Returns ``[B, 1, H, W]``.
    """

    def __init__(self, kernel_sizes: Sequence[int] = (7,), norm: bool = False) -> None:
        super().__init__()
        if not kernel_sizes or any(k % 2 == 0 for k in kernel_sizes):
            raise ConfigError(f"PoolConvMask: kernel sizes must be odd, got {tuple(kernel_sizes)}")
        self.convs = nn.ModuleList(nn.Conv2d(2, 1, k, padding=k // 2, bias=not norm) for k in kernel_sizes)
        self.norm = nn.BatchNorm2d(1) if norm else nn.Identity()

    def forward(self, x: torch.Tensor, *context: Any) -> torch.Tensor:
        pooled = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], dim=1)
        return torch.sigmoid(self.norm(sum(conv(pooled) for conv in self.convs)))


class SpatialGate(nn.Module):
    """``y = x * mask(x, *context)``: a gate around any mask generator.

    ``mask`` is a module or callable taking ``x`` (and whatever context the caller passes, e.g. a second feature
    map) and returning weights broadcastable to ``x`` (``[B, 1, H, W]`` for a spatial mask, ``[B, C, H, W]`` for
    an element-wise one). With ``keep_mask=True`` the last mask is kept (detached) in ``last_mask``.
    """

    def __init__(self, mask: nn.Module | Callable[..., torch.Tensor], keep_mask: bool = False) -> None:
        super().__init__()
        self.mask = mask
        self.keep_mask = keep_mask
        self.last_mask: torch.Tensor | None = None

    def forward(self, x: torch.Tensor, *context: Any) -> torch.Tensor:
        m = self.mask(x, *context)
        if self.keep_mask:
            self.last_mask = m.detach()
        return x * m


class CBAM(nn.Module):
    """Convolutional block attention module: the channel gate, then the spatial gate (7x7 conv on [avg; max])."""

    def __init__(self, channels: int, reduction: float = 16, kernel_size: int = 7, bias: bool = True,
                 norm: bool = False) -> None:
        super().__init__()
        self.channel = CBAMChannel(channels, reduction, bias=bias)
        self.spatial = SpatialGate(PoolConvMask((kernel_size,), norm=norm))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.spatial(self.channel(x))


class _HSwish(nn.Module):
    """h-swish ``x * relu6(x + 3) / 6`` (MobileNetV3), the activation of coordinate attention."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.nn.functional.relu6(x + 3.0) / 6.0


class CoordinateAttention(nn.Module):
    """Coordinate attention (Hou, Zhou, Feng, CVPR 2021).

    ``z_h = mean over W`` (``[B, C, H, 1]``) and ``z_w = mean over H`` are concatenated along the spatial axis,
    transformed by a shared 1x1 conv to ``mip = max(min_hidden, C // reduction)`` channels, batch norm and
    h-swish, split back, and each half gives a sigmoid gate through its own 1x1 conv:
    ``y = x * g_h * g_w``. Biases as in the authors' code (reduction 32, at least 8 hidden channels).
    """

    def __init__(self, channels: int, reduction: float = 32, min_hidden: int = 8, bias: bool = True) -> None:
        super().__init__()
        mip = reduced(channels, reduction, minimum=min_hidden)
        self.conv1 = nn.Conv2d(channels, mip, 1, bias=bias)
        self.bn1 = nn.BatchNorm2d(mip)
        self.act = _HSwish()
        self.conv_h = nn.Conv2d(mip, channels, 1, bias=bias)
        self.conv_w = nn.Conv2d(mip, channels, 1, bias=bias)

    def gates(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(g_h [B, C, H, 1], g_w [B, C, 1, W])``."""
        h, w = x.shape[-2:]
        z_h = x.mean(3, keepdim=True)
        z_w = x.mean(2, keepdim=True).transpose(-1, -2)  # [B, C, W, 1]
        y = self.act(self.bn1(self.conv1(torch.cat([z_h, z_w], dim=2))))
        y_h, y_w = torch.split(y, [h, w], dim=2)
        return torch.sigmoid(self.conv_h(y_h)), torch.sigmoid(self.conv_w(y_w.transpose(-1, -2)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g_h, g_w = self.gates(x)
        return x * g_h * g_w


#: Channel attention by name (:func:`channel_attention`).
KINDS: dict[str, type[nn.Module]] = {
    "se": SqueezeExcitation, "eca": EfficientChannel, "cbam": CBAM, "cbam_channel": CBAMChannel,
    "coord": CoordinateAttention,
}


def channel_attention(kind: str, channels: int, **kwargs: Any) -> nn.Module:
    """Build an attention gate by name: ``se``, ``eca``, ``cbam`` (channel + spatial), ``cbam_channel`` or
    ``coord``; ``kwargs`` go to its constructor (``reduction=...``, ``kernel_size=...``)."""
    if kind not in KINDS:
        raise ConfigError(f"unknown attention kind {kind!r}; expected one of {', '.join(KINDS)}")
    return KINDS[kind](channels, **kwargs)
