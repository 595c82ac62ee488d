"""Graphs for ForwardGNN: Zachary's karate club (networkx ships it; real, 34 nodes, labels = the two clubs) and a
stochastic block model (networkx). Node classification is transductive: one graph, a labelled training set."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from zoo.errors import DataError
from zoo_plugins.forward_gnn.config import ForwardGNNConfig


@dataclass
class Graph:
    """Node features ``x (N, F)``, undirected ``edge_index (2, E)`` (both directions), labels ``y (N,)`` and the
    boolean training mask; the test nodes are the others."""

    x: torch.Tensor
    edge_index: torch.Tensor
    y: torch.Tensor
    train_mask: torch.Tensor
    name: str

    @property
    def test_mask(self) -> torch.Tensor:
        """Every node without a training label."""
        return ~self.train_mask

    def known_labels(self) -> torch.Tensor:
        """Labels of the training nodes, -1 elsewhere (what inference may see)."""
        return torch.where(self.train_mask, self.y, torch.full_like(self.y, -1))


def _edges(graph: object) -> torch.Tensor:
    pairs = torch.tensor(list(graph.edges()), dtype=torch.long).T  # type: ignore[attr-defined]
    return torch.cat([pairs, pairs.flip(0)], 1)


def _split(y: torch.Tensor, fraction: float, seed: int) -> torch.Tensor:
    """A stratified training mask with ``fraction`` of every class (at least one node per class)."""
    g = torch.Generator().manual_seed(seed)
    mask = torch.zeros_like(y, dtype=torch.bool)
    for c in y.unique():
        idx = (y == c).nonzero().flatten()
        take = max(1, round(fraction * len(idx)))
        mask[idx[torch.randperm(len(idx), generator=g)[:take]]] = True
    return mask


def karate(config: ForwardGNNConfig) -> Graph:
    """The karate club: identity features, label 0 for Mr. Hi's club, 1 for the Officer's."""
    import networkx as nx

    g = nx.karate_club_graph()
    y = torch.tensor([0 if g.nodes[i]["club"] == "Mr. Hi" else 1 for i in g.nodes])
    return Graph(torch.eye(g.number_of_nodes()), _edges(g), y, _split(y, config.train_fraction, config.split_seed),
                 "karate")


def sbm(config: ForwardGNNConfig) -> Graph:
    """A stochastic block model; features = ``signal * onehot(block)`` in the first dimensions plus N(0, 1) noise."""
    import networkx as nx

    k = len(config.sbm_sizes)
    probs = [[config.sbm_p_in if i == j else config.sbm_p_out for j in range(k)] for i in range(k)]
    g = nx.stochastic_block_model(list(config.sbm_sizes), probs, seed=config.split_seed)
    y = torch.tensor([g.nodes[i]["block"] for i in g.nodes])
    gen = torch.Generator().manual_seed(config.split_seed)
    x = torch.randn(len(y), config.in_features, generator=gen)
    x[:, :k] += config.sbm_signal * torch.nn.functional.one_hot(y, k).float()
    return Graph(x, _edges(g), y, _split(y, config.train_fraction, config.split_seed), "sbm")


def make_data(config: ForwardGNNConfig, source: str, split: str) -> list[Graph]:
    """``[graph]`` (one transductive graph; ``split`` does not change it: training uses its training mask,
    evaluation its other nodes). ``source``: ``karate``, ``sbm``, or ``synthetic`` (the config's own graph)."""
    name = config.dataset if source in ("synthetic", "default") else source
    if name == "karate":
        graph = karate(config)
    elif name == "sbm":
        graph = sbm(config)
    else:
        raise DataError(f"ForwardGNN graph {source!r}: expected 'karate', 'sbm' or 'synthetic'")
    if graph.x.shape[1] != config.in_features or int(graph.y.max()) + 1 != config.num_classes:
        raise DataError(f"graph {name!r} has {graph.x.shape[1]} features and {int(graph.y.max()) + 1} classes; "
                        f"this variant expects {config.in_features} and {config.num_classes}")
    return [graph]
