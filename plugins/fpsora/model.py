"""The FPSORA model: a linear projection ``P`` (recovered from the final embedding, Eq. 13) with the data mean and
the k-means centres of the embedded training set, so new samples can be embedded and clustered."""
from __future__ import annotations

import torch
from torch import nn

from zoo.clustering import assign
from zoo.errors import InputError
from zoo_plugins.fpsora.config import FPSORAConfig


class FPSORAModel(nn.Module):
    """Buffers ``mean (p,)``, ``projection (p, d)`` and ``centers (c, d)``; random until trained."""

    def __init__(self, config: FPSORAConfig) -> None:
        super().__init__()
        self.config = config
        self.register_buffer("mean", torch.zeros(config.input_dim, dtype=torch.float64))
        q, _ = torch.linalg.qr(torch.randn(config.input_dim, config.dim, dtype=torch.float64))
        self.register_buffer("projection", q[:, :config.dim].contiguous())
        self.register_buffer("centers", torch.randn(config.num_clusters, config.dim, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embedding ``(x - mean) P`` of samples ``x (B, p)``: ``(B, d)``."""
        if x.dim() != 2 or x.shape[1] != self.config.input_dim:
            raise InputError(f"fpsora: x must be (B, {self.config.input_dim}), got {tuple(x.shape)}")
        return (x.to(self.mean.dtype) - self.mean) @ self.projection

    def cluster(self, x: torch.Tensor) -> torch.Tensor:
        """Nearest k-means centre of each embedded sample."""
        return assign(self(x), self.centers)[0]


def build(config: FPSORAConfig) -> FPSORAModel:
    """The ``build`` hook."""
    return FPSORAModel(config)
