"""Variant configs of HybridHGCN (frozen dataclasses, JSON-able, no torch import)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from zoo.errors import ConfigError

Mix = Literal["max", "mean", "sum"]


@dataclass(frozen=True)
class HybridHGCNConfig:
    """HybridHGCN (paper symbols in brackets).

    in_features [d0], hidden [d1], num_classes [q = d2]; orders: the powers k of the incidence matrix, one
    two-layer HGNN branch each (the paper: 1, 2, 3; ``(1,)`` is HGNN); mix: the hybrid message operator over the
    branches' outputs (``max``, the paper's element-wise max; ``mean``/``sum`` as ablations); share_weights:
    Theta^(l1), Theta^(l2) shared by every branch (Eq. 8 writes one Theta per layer) or one pair per branch
    (MixHop-style); binarize_powers: use the support ``[H^k > 0]`` instead of ``H^k`` itself (the paper uses the
    power); dropout: after the first layer (HGNN's code, rate 0.5).
    Training: lr, weight_decay (Adam; the paper gives none: HGNN's code uses Adam 1e-3 / 5e-4, GCN 1e-2 / 5e-4),
    epochs (full-batch steps), dataset (``karate``: networkx's Zachary karate club, ``synthetic``: a stochastic
    block model; ``cora`` etc. are not shipped offline) and labels_per_class (labelled training nodes per class,
    drawn with ``split_seed``).
    """

    in_features: int = 34
    hidden: int = 16
    num_classes: int = 2
    orders: tuple[int, ...] = (1, 2, 3)
    mix: Mix = "max"
    share_weights: bool = True
    binarize_powers: bool = False
    dropout: float = 0.5
    lr: float = 0.01
    weight_decay: float = 5e-4
    epochs: int = 200
    dataset: str = "karate"
    labels_per_class: int = 2
    split_seed: int = 0

    def __post_init__(self) -> None:
        if self.in_features < 1 or self.hidden < 1 or self.num_classes < 2:
            raise ConfigError(f"HybridHGCNConfig needs in_features, hidden >= 1 and num_classes >= 2, got "
                              f"{self.in_features}, {self.hidden}, {self.num_classes}")
        if not self.orders or any(k < 1 for k in self.orders) or len(set(self.orders)) != len(self.orders):
            raise ConfigError(f"HybridHGCNConfig.orders must be distinct powers >= 1, got {self.orders}")
        if self.mix not in ("max", "mean", "sum"):
            raise ConfigError(f"HybridHGCNConfig.mix must be max, mean or sum, got {self.mix!r}")
        if not 0 <= self.dropout < 1 or self.lr <= 0 or self.weight_decay < 0 or self.epochs < 0:
            raise ConfigError("HybridHGCNConfig needs 0 <= dropout < 1, lr > 0, weight_decay >= 0, epochs >= 0")
        if self.dataset not in ("karate", "synthetic") or self.labels_per_class < 1:
            raise ConfigError(f"HybridHGCNConfig.dataset must be karate or synthetic and labels_per_class >= 1, "
                              f"got {self.dataset!r}, {self.labels_per_class}")


def tiny() -> HybridHGCNConfig:
    """Zachary's karate club (34 members, identity features, 2 factions), orders 1-3, hidden 16, 2 labels/class."""
    return HybridHGCNConfig()


def hgnn() -> HybridHGCNConfig:
    """Baseline HGNN (Feng et al. 2019) on the karate club: one branch, order 1."""
    return replace(tiny(), orders=(1,))


def paper() -> HybridHGCNConfig:
    """Cora (Sect. 5.2): 1,433 bag-of-words features, hidden 32, 7 classes, orders 1, 2, 3 (46,119 parameters
    with shared Theta). Cora is not shipped offline: pass your own features and incidence."""
    return HybridHGCNConfig(in_features=1433, hidden=32, num_classes=7, dataset="karate")


def citeseer() -> HybridHGCNConfig:
    """Citeseer: 3,703 features, hidden 16, 6 classes, orders 1, 2, 3."""
    return HybridHGCNConfig(in_features=3703, hidden=16, num_classes=6)


def pubmed() -> HybridHGCNConfig:
    """Pubmed: 500 features, hidden 64, 3 classes, orders 1, 2, 3."""
    return HybridHGCNConfig(in_features=500, hidden=64, num_classes=3)
