"""Variant configs of SARG (frozen dataclasses, JSON-able, no torch import)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from zoo.errors import ConfigError

Attention = Literal["gcn", "fc", "none"]
Fusion = Literal["maxpool", "addpool", "fusion_net"]
Affinity = Literal["dot", "embedded"]


@dataclass(frozen=True)
class SARGConfig:
    """The SARG head (paper symbols in brackets) and its training recipe.

    Actors: num_actors [N] per frame, frames [K] (ARG's 3 sampled frames), feature_dim [f] of the actor features
    (from a backbone + RoIAlign + FC in the paper; inputs here), dim [d] (= f in the paper, needed by Z = X + ...).
    Graphs: num_graphs [N_g] parallel actor relation graphs with unshared weights; affinity ``embedded`` (ARG's
    theta(x_i)^T phi(x_j) / sqrt(d_k), d_k = embed_dim: the paper "follows the ARG construction strategy") or
    ``dot`` (Eq. 2 as printed: x_i^T x_j / sqrt(d), no learned embedding, so every graph has the same A);
    mu [mu]: distance threshold of the position mask f_s (normalised image coordinates; ARG: 1/5 of the width).
    Key-actor subgraph: attention ``gcn`` (Eq. 5, S = sigmoid((A + I) H Theta_att)), ``fc`` (Eq. 6, a two-layer
    MLP d -> d/2 -> 1) or ``none`` (no subgraph: the ARG base model of Table 1); keep_ratio [k] (0.5).
    fusion: ``maxpool`` (Eq. 11), ``addpool`` (Eq. 12) or ``fusion_net`` (Eq. 13).
    Heads: num_activities (group classes), num_actions (individual classes); action_weight [lambda] (Eq. 14).
    Recipe: steps, batch_size, lr (Adam, as the paper), weight_decay.
    """

    num_actors: int = 12
    frames: int = 3
    feature_dim: int = 32
    dim: int = 32
    num_graphs: int = 2
    affinity: Affinity = "embedded"
    embed_dim: int = 32
    mu: float = 0.2
    attention: Attention = "gcn"
    keep_ratio: float = 0.5
    fusion: Fusion = "addpool"
    num_activities: int = 4
    num_actions: int = 6
    action_weight: float = 1.0
    dropout: float = 0.0
    steps: int = 300
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        if min(self.num_actors, self.frames, self.feature_dim, self.dim, self.num_graphs, self.embed_dim) < 1:
            raise ConfigError("SARGConfig sizes must be >= 1")
        if self.dim != self.feature_dim:
            raise ConfigError(f"SARGConfig.dim must equal feature_dim (Z = X + sum_g ..., the paper sets d = f), "
                              f"got {self.dim} and {self.feature_dim}")
        if self.affinity not in ("dot", "embedded") or self.attention not in ("gcn", "fc", "none"):
            raise ConfigError(f"SARGConfig affinity must be dot|embedded and attention gcn|fc|none, got "
                              f"{self.affinity!r}, {self.attention!r}")
        if self.fusion not in ("maxpool", "addpool", "fusion_net"):
            raise ConfigError(f"SARGConfig.fusion must be maxpool, addpool or fusion_net, got {self.fusion!r}")
        if not 0 < self.keep_ratio <= 1 or self.mu <= 0:
            raise ConfigError(f"SARGConfig needs 0 < keep_ratio <= 1 and mu > 0, got {self.keep_ratio}, {self.mu}")
        if self.num_activities < 2 or self.num_actions < 2 or self.action_weight < 0:
            raise ConfigError("SARGConfig needs >= 2 activity and action classes and action_weight >= 0")


def tiny() -> SARGConfig:
    """Synthetic actor tracks: 12 actors x 3 frames, 32-d features, 2 graphs, GCN attention, k = 0.5, addpool
    (Table 2's best fusion with the GCN encoder)."""
    return SARGConfig()


def base() -> SARGConfig:
    """Table 1's base model on the tiny data: the same head without subgraph extraction (ARG)."""
    return replace(tiny(), attention="none")


def paper() -> SARGConfig:
    """Volleyball (Sect. 4): 12 players, 3 frames, d = f = 1024, 16 graphs (ARG's setting), GCN attention encoder,
    k = 0.5, 8 group activities, 9 individual actions, maxpool fusion (the ablations' default)."""
    return SARGConfig(feature_dim=1024, dim=1024, embed_dim=256, num_graphs=16, num_activities=8, num_actions=9,
                      fusion="maxpool")


def collective() -> SARGConfig:
    """Collective Activity (Table 2's best): N_g = 8 graphs, 5 group activities, 6 individual actions, addpool."""
    return replace(paper(), num_graphs=8, num_activities=5, num_actions=6, fusion="addpool")
