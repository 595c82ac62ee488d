"""Hypergraphs for node classification: Zachary's karate club (networkx ships it; the two factions are the
labels) and a stochastic-block-model graph with noisy features. Each vertex spawns one hyperedge: itself and
its neighbours (the paper's construction for citation graphs)."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from zoo.errors import ConfigError, DataError
from zoo.graphs import adjacency_from_networkx, incidence_from_adjacency
from zoo_plugins.hybrid_hgcn.config import HybridHGCNConfig


@dataclass
class HypergraphData:
    """Node ``features (N, F)``, square ``incidence (N, N)`` (hyperedge e centred on vertex e), ``labels (N,)``,
    boolean ``train_mask``/``test_mask`` (N,), a ``name``."""

    features: torch.Tensor
    incidence: torch.Tensor
    labels: torch.Tensor
    train_mask: torch.Tensor
    test_mask: torch.Tensor
    name: str = "hypergraph"

    def __len__(self) -> int:
        return 1  # one full-batch "sample" for the trainer

    def __getitem__(self, index: int) -> HypergraphData:
        if index != 0:
            raise IndexError(index)
        return self

    def with_split(self, labels_per_class: int, seed: int) -> HypergraphData:
        """A new random split: ``labels_per_class`` labelled training vertices per class, the rest for testing."""
        train = split_mask(self.labels, labels_per_class, seed)
        return HypergraphData(self.features, self.incidence, self.labels, train, ~train, self.name)


def split_mask(labels: torch.Tensor, per_class: int, seed: int) -> torch.Tensor:
    """A seeded boolean mask with ``per_class`` vertices of every class."""
    g = torch.Generator().manual_seed(seed)
    mask = torch.zeros_like(labels, dtype=torch.bool)
    for c in labels.unique().tolist():
        idx = (labels == c).nonzero().squeeze(1)
        if len(idx) <= per_class:
            raise DataError(f"class {c} has {len(idx)} vertices; cannot label {per_class} and test the rest")
        mask[idx[torch.randperm(len(idx), generator=g)[:per_class]]] = True
    return mask


def karate(labels_per_class: int = 2, seed: int = 0) -> HypergraphData:
    """Zachary's karate club: 34 members, 78 friendships; label = the faction each member joined ("Mr. Hi" 0,
    "Officer" 1); identity features (GCN's featureless setting)."""
    import networkx as nx

    graph = nx.karate_club_graph()
    adj = adjacency_from_networkx(graph, weight=None)
    labels = torch.tensor([0 if graph.nodes[v]["club"] == "Mr. Hi" else 1 for v in graph.nodes])
    data = HypergraphData(torch.eye(34), incidence_from_adjacency(adj), labels, labels.bool(), labels.bool(),
                          "karate")
    return data.with_split(labels_per_class, seed)


def sbm(num_nodes: int = 300, num_classes: int = 3, p_in: float = 0.04, p_out: float = 0.008,
        features: int = 16, signal: float = 0.5, labels_per_class: int = 2, seed: int = 0) -> HypergraphData:
    """networkx's stochastic block model (equal blocks) with Gaussian features whose class means are ``signal``
    apart per dimension on unit noise, so the graph carries most of the class information."""
    import networkx as nx

    sizes = [num_nodes // num_classes] * num_classes
    probs = [[p_in if a == b else p_out for b in range(num_classes)] for a in range(num_classes)]
    graph = nx.stochastic_block_model(sizes, probs, seed=seed)
    adj = adjacency_from_networkx(graph, weight=None)
    labels = torch.tensor([graph.nodes[v]["block"] for v in graph.nodes])
    g = torch.Generator().manual_seed(seed)
    means = signal * torch.randn(num_classes, features, generator=g)
    x = means[labels] + torch.randn(len(labels), features, generator=g)
    data = HypergraphData(x, incidence_from_adjacency(adj), labels, labels.bool(), labels.bool(), "sbm")
    return data.with_split(labels_per_class, seed)


def make_data(config: HybridHGCNConfig, source: str = "karate", split: str = "train") -> HypergraphData:
    """The ``make_data`` hook: ``karate`` or ``synthetic`` (SBM with the variant's ``in_features`` features per
    vertex) with the variant's split (transductive: every split is the same graph; ``train_mask``/``test_mask`` say
    which labels are used)."""
    if split not in ("train", "test", "all"):
        raise ConfigError(f"hybrid-hgcn data split must be train, test or all, got {split!r}")
    if source == "karate":
        data = karate(config.labels_per_class, config.split_seed)
    elif source == "synthetic":
        data = sbm(num_classes=config.num_classes, features=config.in_features,
                   labels_per_class=config.labels_per_class, seed=config.split_seed)
    else:
        raise ConfigError(f"hybrid-hgcn knows the data sources 'karate' and 'synthetic', got {source!r}")
    if data.features.shape[1] != config.in_features:
        raise DataError(f"{source} has {data.features.shape[1]} features per vertex; this variant expects "
                        f"{config.in_features} (build it with in_features={data.features.shape[1]})")
    return data
