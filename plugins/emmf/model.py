"""EMMF's networks: the encoder fed with the identity matrix (an embedding table followed by an MLP) that
produces the shared representation H, one decoder per view (H -> X_hat^(p), the deep factors V^(p)), and one
discriminator per view."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from zoo.errors import InputError
from zoo_plugins.emmf.config import EMMFConfig


def mlp(widths: Sequence[int], last_relu: bool) -> nn.Sequential:
    """Linear layers between consecutive ``widths`` with ReLU after each (and after the last if ``last_relu``)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2 or last_relu:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class IdentityEncoder(nn.Module):
    """``H = f(I_n)``: the first layer applied to the identity is its weight matrix (row i = sample i's column),
    so it is stored as an embedding table ``(n, w_1)`` plus bias instead of multiplying by ``I_n``."""

    def __init__(self, config: EMMFConfig) -> None:
        super().__init__()
        widths = (config.num_samples, *config.encoder_dims, config.rep_dim)
        self.first = nn.Linear(widths[0], widths[1])
        self.rest = mlp(widths[1:], last_relu=config.relu_h)
        self.first_relu = len(widths) > 2 or config.relu_h

    def forward(self, index: torch.Tensor | None = None) -> torch.Tensor:
        """Rows ``index`` of H (all ``n`` rows when ``None``); equal to ``f(I_n)[index]``."""
        table = self.first.weight.T + self.first.bias  # I_n W^T + b
        rows = table if index is None else table[index]
        return self.rest(torch.relu(rows) if self.first_relu else rows)


class EMMF(nn.Module):
    """Encoder (shared H), per-view decoders and discriminators, and the k-means centres of H (a buffer)."""

    def __init__(self, config: EMMFConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = IdentityEncoder(config)
        back = (config.rep_dim, *reversed(config.encoder_dims))
        self.decoders = nn.ModuleList(mlp((*back, d), last_relu=False) for d in config.view_dims)
        self.discriminators = nn.ModuleList(mlp((d, *config.disc_dims, 1), last_relu=False) for d in config.view_dims)
        self.register_buffer("centers", torch.zeros(config.num_clusters, config.rep_dim))

    def representation(self, index: torch.Tensor | None = None) -> torch.Tensor:
        """The shared representation ``H`` (n, k), or its rows ``index``."""
        if index is not None:
            if index.dim() != 1 or index.dtype not in (torch.int64, torch.int32):
                raise InputError(f"emmf: index must be a 1-D integer tensor, got {index.dtype} {tuple(index.shape)}")
            if len(index) and (int(index.min()) < 0 or int(index.max()) >= self.config.num_samples):
                raise InputError(f"emmf: sample indices must be in [0, {self.config.num_samples}) (the model is "
                                 "transductive: it represents the samples it was trained on)")
        return self.encoder(index)

    def reconstruct(self, h: torch.Tensor) -> list[torch.Tensor]:
        """``X_hat^(p)`` of every view from ``H`` (logits when ``dist="bce"``)."""
        return [dec(h) for dec in self.decoders]

    def discriminate(self, p: int, x: torch.Tensor) -> torch.Tensor:
        """``D_p(x)`` as logits (the sigmoid is inside the losses)."""
        return self.discriminators[p](x).squeeze(-1)

    def forward(self, index: torch.Tensor | None = None) -> torch.Tensor:
        return self.representation(index)


def build(config: EMMFConfig) -> EMMF:
    """The ``build`` hook."""
    return EMMF(config)
