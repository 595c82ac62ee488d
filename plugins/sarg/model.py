"""The SARG head: actor relation graphs (Eq. 1-3), key-actor subgraph extraction by self-attention and top-k
(Eq. 5-10), multi-scale fusion (Eq. 11-13) and the two classifiers; frames are processed independently and their
scores averaged (ARG's temporal modelling)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from zoo.errors import InputError
from zoo_plugins.sarg.config import SARGConfig


def relation_graph(x: torch.Tensor, pos: torch.Tensor, mu: float, theta: nn.Module | None = None,
                   phi: nn.Module | None = None) -> torch.Tensor:
    """Eq. 1-2: ``A_ij = f_s(i, j) exp(f_a(i, j)) / sum_j f_s(i, j) exp(f_a(i, j))`` for actors ``x (..., N, d)`` at
    positions ``pos (..., N, 2)``; ``f_a = x_i^T x_j / sqrt(d)`` (or theta(x_i)^T phi(x_j) / sqrt(d_k)), ``f_s =
    1[||p_i - p_j|| <= mu]`` (every actor sees itself)."""
    q = theta(x) if theta is not None else x
    k = phi(x) if phi is not None else x
    logits = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    near = torch.cdist(pos, pos) <= mu
    return torch.softmax(logits.masked_fill(~near, float("-inf")), dim=-1)


def top_rank(scores: torch.Tensor, ratio: float) -> torch.Tensor:
    """Eq. 7: indices of the ``ceil(ratio N)`` highest scores, per graph (``scores (..., N)``)."""
    keep = math.ceil(ratio * scores.shape[-1])
    return torch.topk(scores, keep, dim=-1).indices


def extract_subgraph(h: torch.Tensor, a: torch.Tensor, scores: torch.Tensor, ratio: float
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Eq. 7-10: ``idx``; ``H_s = H[idx] * S[idx]``; ``A_s = A[idx, idx]``; and ``H_s'``, the rows of ``H_s``
    scattered back into an ``N x d`` zero matrix (the "distribute" operation)."""
    idx = top_rank(scores, ratio)  # (..., n_keep)
    s_mask = scores.gather(-1, idx)
    h_s = h.gather(-2, idx[..., None].expand(*idx.shape, h.shape[-1])) * s_mask[..., None]
    rows = a.gather(-2, idx[..., None].expand(*idx.shape, a.shape[-1]))
    a_s = rows.gather(-1, idx[..., None, :].expand(*idx.shape, idx.shape[-1]))
    h_s_full = torch.zeros_like(h).scatter(-2, idx[..., None].expand(*idx.shape, h.shape[-1]), h_s)
    return idx, h_s, a_s, h_s_full


class RelationBranch(nn.Module):
    """One of the N_g graphs: its affinity embeddings, GCN weight W (Eq. 3), the action-feature FC and the
    attention encoder (Eq. 5 or 6)."""

    def __init__(self, config: SARGConfig) -> None:
        super().__init__()
        d = config.dim
        self.config = config
        self.theta = nn.Linear(d, config.embed_dim) if config.affinity == "embedded" else None
        self.phi = nn.Linear(d, config.embed_dim) if config.affinity == "embedded" else None
        self.gcn = nn.Linear(d, d, bias=False)
        self.action = nn.Linear(d, d)
        if config.attention == "gcn":
            self.att: nn.Module | None = nn.Linear(d, 1, bias=False)  # Theta_att
        elif config.attention == "fc":
            self.att = nn.Sequential(nn.Linear(d, d // 2 or 1), nn.ReLU(), nn.Linear(d // 2 or 1, 1))
        else:
            self.att = None

    def forward(self, x: torch.Tensor, pos: torch.Tensor) -> dict[str, torch.Tensor]:
        """``x (..., N, d)``, ``pos (..., N, 2)`` -> ``A``, ``H1``, ``S``, ``idx``, ``H_s'`` (zeros without
        attention)."""
        a = relation_graph(x, pos, self.config.mu, self.theta, self.phi)
        h1 = F.relu(a @ self.gcn(x))  # Eq. 3: H(1) = ReLU(A X W)
        out = {"adjacency": a, "relation": h1}
        if self.att is None:
            out["subgraph"] = torch.zeros_like(h1)
            return out
        act = self.action(h1)  # the behaviour vector of each actor
        if self.config.attention == "gcn":
            eye = torch.eye(a.shape[-1], dtype=a.dtype, device=a.device)
            scores = torch.sigmoid(((a + eye) @ self.att(act)).squeeze(-1))  # Eq. 5
        else:
            scores = torch.sigmoid(self.att(act).squeeze(-1))  # Eq. 6
        idx, _, _, h_s_full = extract_subgraph(h1, a, scores, self.config.keep_ratio)
        out.update(scores=scores, index=idx, subgraph=h_s_full)
        return out


class SARG(nn.Module):
    """Actor features ``(B, K, N, f)`` and positions ``(B, K, N, 2)`` -> group activity logits ``(B, C_g)`` and
    individual action logits ``(B, N, C_a)`` (averaged over the K frames)."""

    def __init__(self, config: SARGConfig) -> None:
        super().__init__()
        self.config = config
        d = config.dim
        self.branches = nn.ModuleList(RelationBranch(config) for _ in range(config.num_graphs))
        if config.fusion == "fusion_net":
            self.fuse = nn.ModuleList(nn.Linear(3 * d, d) for _ in range(config.num_graphs))  # W_p,i, b_p,i
        self.dropout = nn.Dropout(config.dropout)
        self.activity_head = nn.Linear(d, config.num_activities)
        self.action_head = nn.Linear(d, config.num_actions)

    def scene(self, x: torch.Tensor, pos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[dict]]:
        """Actor-level ``Z (..., N, d)`` and scene-level ``Z' (..., d)`` (Eq. 11-13), plus each graph's outputs."""
        outs = [b(x, pos) for b in self.branches]
        fusion = self.config.fusion
        if fusion == "fusion_net":
            z = sum(F.relu(f(torch.cat([x, o["relation"], o["subgraph"]], -1))) for f, o in zip(self.fuse, outs))
        else:
            z = x + sum(o["relation"] + o["subgraph"] for o in outs)
        z_scene = z.amax(-2) if fusion == "maxpool" else z.sum(-2)
        return z, z_scene, outs

    def forward(self, x: torch.Tensor, pos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.config
        if x.dim() != 4 or x.shape[-1] != cfg.feature_dim:
            raise InputError(f"sarg: actor features must be (B, K, N, {cfg.feature_dim}), got {tuple(x.shape)}")
        if pos.shape != (*x.shape[:-1], 2):
            raise InputError(f"sarg: positions must be (B, K, N, 2) matching the features, got {tuple(pos.shape)}")
        z, z_scene, _ = self.scene(x, pos)
        activity = self.activity_head(self.dropout(z_scene)).mean(1)  # average over frames
        actions = self.action_head(self.dropout(z)).mean(1)
        return activity, actions


def build(config: SARGConfig) -> SARG:
    """The ``build`` hook."""
    return SARG(config)
