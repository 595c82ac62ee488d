"""The FD module itself (Eqs. 2-5): the feature difference D = smoothL1(F - X), the mask M = sigmoid(D) and the
refined output M * F, as a mask generator for the shared :class:`zoo.layers.attention.SpatialGate`."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from zoo.errors import InputError
from zoo.layers.attention import SpatialGate


def feature_difference(f: torch.Tensor, x: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """Eqs. 2-3: ``D = smooth(F - X)`` elementwise, ``0.5 d^2 / beta`` where ``|d| < beta`` else ``|d| - 0.5 beta``
    (the paper's beta = 1, where its Eq. 3 and this continuous form coincide)."""
    if f.shape != x.shape:
        raise InputError(f"FD needs a convolution that keeps the size of its input: F {tuple(f.shape)} vs X "
                         f"{tuple(x.shape)}")
    return F.smooth_l1_loss(f, x, reduction="none", beta=beta)


class FDMask(nn.Module):
    """Eq. 4: ``M = sigmoid(D(X))``, called as ``mask(F, X)`` (the output first, as :class:`SpatialGate` passes it).
    Values lie in [0.5, 1): 0.5 where the convolution changed nothing."""

    def __init__(self, beta: float = 1.0) -> None:
        super().__init__()
        self.beta = beta

    def forward(self, f: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(feature_difference(f, x, self.beta))

    def extra_repr(self) -> str:
        return f"beta={self.beta}"


def fd_gate(beta: float = 1.0, keep_mask: bool = False) -> SpatialGate:
    """Eq. 5 as a gate: ``gate(F, X) = sigmoid(smoothL1(F - X)) * F`` (no parameters)."""
    return SpatialGate(FDMask(beta), keep_mask=keep_mask)
