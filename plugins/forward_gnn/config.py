"""Variant configs of ForwardGNN (Park et al., "Forward Learning of Graph Neural Networks", ICLR 2024): frozen
dataclasses, no torch import."""
from __future__ import annotations

from dataclasses import dataclass

from zoo.errors import ConfigError

CONVS: tuple[str, ...] = ("gcn", "sage", "gat")
RULES: tuple[str, ...] = ("sf", "ff", "bp")
DATASETS: tuple[str, ...] = ("karate", "sbm")


@dataclass(frozen=True)
class ForwardGNNConfig:
    """Graph, GNN and learning rule.

    ``rule``: ``sf`` = single-forward (one virtual node per class joined to the training nodes of that class; each
    layer learns alone from the cross-entropy of its nodes' similarity to the class nodes; inference sums the
    per-layer class scores), ``ff`` = forward-forward (the label appended to the node features; goodness
    ``sum h^2 - theta`` high for the true label, low for a wrong one), ``bp`` = the same model and scoring trained
    end to end by back-propagation (the baseline).
    ``dataset``: ``karate`` (Zachary's karate club from networkx: 34 members, the two clubs, identity features) or
    ``sbm`` (a stochastic block model with noisy class-mean features); ``train_fraction`` of the nodes have labels.
    """

    dataset: str = "karate"
    in_features: int = 34
    num_classes: int = 2
    conv: str = "gcn"
    hidden: int = 16
    num_layers: int = 2
    heads: int = 2
    rule: str = "sf"
    temperature: float = 0.5
    theta: float = 2.0
    lr: float = 0.01
    epochs: int = 100
    train_fraction: float = 0.3
    split_seed: int = 0
    # sbm only
    sbm_sizes: tuple[int, ...] = (40, 40, 40)
    sbm_p_in: float = 0.15
    sbm_p_out: float = 0.02
    sbm_signal: float = 0.5

    def __post_init__(self) -> None:
        if self.conv not in CONVS:
            raise ConfigError(f"unknown GNN layer {self.conv!r}; expected one of {CONVS}")
        if self.rule not in RULES:
            raise ConfigError(f"unknown ForwardGNN rule {self.rule!r}; expected one of {RULES}")
        if self.dataset not in DATASETS:
            raise ConfigError(f"unknown graph {self.dataset!r}; expected one of {DATASETS}")
        if self.num_layers < 1 or self.hidden < 1 or self.temperature <= 0:
            raise ConfigError("ForwardGNN needs num_layers >= 1, hidden >= 1 and temperature > 0")

    @property
    def layer_input(self) -> int:
        """Features entering the first layer (the label is appended for the FF rule)."""
        return self.in_features + (self.num_classes if self.rule == "ff" else 0)


def tiny() -> ForwardGNNConfig:
    """Karate club, 2-layer GCN (hidden 16), single-forward rule."""
    return ForwardGNNConfig()


def sage() -> ForwardGNNConfig:
    """Karate club, 2-layer GraphSAGE."""
    return ForwardGNNConfig(conv="sage")


def gat() -> ForwardGNNConfig:
    """Karate club, 2-layer GAT (2 heads, averaged)."""
    return ForwardGNNConfig(conv="gat")


def ff() -> ForwardGNNConfig:
    """Karate club, 2-layer GCN, forward-forward with the label appended to the node features."""
    return ForwardGNNConfig(rule="ff", hidden=32)


def sbm() -> ForwardGNNConfig:
    """Stochastic block model (3 blocks of 40, 16 noisy features), 2-layer GCN, single-forward."""
    return ForwardGNNConfig(dataset="sbm", in_features=16, num_classes=3, hidden=32, train_fraction=0.2)


def paper() -> ForwardGNNConfig:
    """The public scripts' defaults: 4 layers, hidden 128, LR 1e-3, 1000 epochs (GCN), here on the SBM graph."""
    return ForwardGNNConfig(dataset="sbm", in_features=16, num_classes=3, hidden=128, num_layers=4, lr=1e-3,
                            epochs=1000, train_fraction=0.2)
