"""The ANMMF model as an ``nn.Module`` of buffers: the learned bases ``U_i`` and the multi-view cluster centres,
so new samples can be represented (``V_i`` by multiplicative updates with ``U_i`` fixed) and clustered."""
from __future__ import annotations

import torch
from torch import nn

from zoo.errors import InputError
from zoo.graphs import pairwise_sq_dists
from zoo_plugins.anmmf.config import ANMMFConfig


class ANMMFModel(nn.Module):
    """Buffers: ``bases (V, D, m)`` (the ``U_i``), ``centers (V, c, m)`` (per-attribute cluster centres),
    ``view_weights (V,)`` (multi-view k-means' alpha). Randomly initialised until trained."""

    def __init__(self, config: ANMMFConfig) -> None:
        super().__init__()
        self.config = config
        v, d, m, c = config.num_attributes, config.input_dim, config.rank, config.num_clusters
        self.register_buffer("bases", torch.rand(v, d, m, dtype=torch.float64))
        self.register_buffer("centers", torch.rand(v, c, m, dtype=torch.float64))
        self.register_buffer("view_weights", torch.full((v,), 1.0 / v, dtype=torch.float64))

    def represent(self, x: torch.Tensor, iterations: int = 200) -> torch.Tensor:
        """``V_i`` of new samples ``x (B, D)`` for every attribute with ``U_i`` fixed: NMF's multiplicative update
        of ``V`` alone (Eq. 14 without the graph and HSIC terms, which need the training set), from a constant
        start, so the result is deterministic. Returns ``(V, B, m)``."""
        if x.dim() != 2 or x.shape[1] != self.config.input_dim:
            raise InputError(f"anmmf: x must be (B, {self.config.input_dim}), got {tuple(x.shape)}")
        if bool((x < 0).any()):
            raise InputError("anmmf: x must be non-negative (NMF represents non-negative data)")
        xt = x.to(self.bases.dtype).T  # (D, B)
        out = []
        for u in self.bases:
            v = torch.full((x.shape[0], u.shape[1]), float(xt.mean().clamp_min(1e-3)) / u.shape[1],
                           dtype=u.dtype)
            utu, xtu = u.T @ u, xt.T @ u
            for _ in range(iterations):
                v = v * xtu / (v @ utu + self.config.eps)
            out.append(v)
        return torch.stack(out)

    def assign(self, reps: torch.Tensor) -> torch.Tensor:
        """Cluster of each sample from its representations ``(V, B, m)``: the centre minimising the view-weighted
        squared distances ``sum_i alpha_i^gamma ||v_i - f_k^i||^2``."""
        weights = self.view_weights ** self.config.mv_gamma
        cost = sum(weights[i] * pairwise_sq_dists(reps[i], self.centers[i]) for i in range(reps.shape[0]))
        return cost.argmin(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Concatenated representations ``[V_1, ..., V_V]`` of ``x (B, D)``: ``(B, V m)``."""
        reps = self.represent(x)
        return reps.permute(1, 0, 2).reshape(x.shape[0], -1)


def build(config: ANMMFConfig) -> ANMMFModel:
    """The ``build`` hook."""
    return ANMMFModel(config)
