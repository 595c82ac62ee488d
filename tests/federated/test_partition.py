"""Partitioners: coverage, disjointness, determinism, skew, validation."""
from __future__ import annotations

import numpy as np
import pytest

from zoo.engines import federated as fl
from zoo.errors import FederatedError

LABELS = np.repeat(np.arange(10), 50)


def _check_partition(parts: list[np.ndarray], n: int) -> None:
    allidx = np.concatenate(parts)
    assert len(allidx) == n and len(np.unique(allidx)) == n


def test_iid_covers_disjoint_and_balanced() -> None:
    parts = fl.iid(103, 10, seed=1)
    _check_partition(parts, 103)
    assert {len(p) for p in parts} <= {10, 11}
    assert all(np.array_equal(a, b) for a, b in zip(parts, fl.iid(103, 10, seed=1)))
    assert not all(np.array_equal(a, b) for a, b in zip(parts, fl.iid(103, 10, seed=2)))


def test_dirichlet_deterministic_and_skew_grows_as_alpha_falls() -> None:
    a = fl.dirichlet(LABELS, 10, 0.3, seed=0, min_size=5)
    b = fl.dirichlet(LABELS, 10, 0.3, seed=0, min_size=5)
    _check_partition(a, LABELS.size)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert min(len(p) for p in a) >= 5

    def skew(alpha: float) -> float:
        h = fl.label_histogram(LABELS, fl.dirichlet(LABELS, 10, alpha, seed=3), 10).astype(float)
        p = h / h.sum(1, keepdims=True)
        return float((p.max(1)).mean())  # mean share of each client's dominant class

    assert skew(0.1) > skew(1.0) > skew(100.0)
    assert skew(100.0) < 0.2  # near IID: the dominant class is close to 1/10


def test_label_shards_gives_few_classes_per_client() -> None:
    labels = np.repeat(np.arange(10), 40)  # 40 shards of 10 samples: each shard holds one class
    parts = fl.label_shards(labels, 20, shards_per_client=2, seed=0)
    _check_partition(parts, labels.size)
    h = fl.label_histogram(labels, parts, 10)
    assert ((h > 0).sum(1) <= 2).all()


def test_given_validates() -> None:
    assert [p.tolist() for p in fl.given([[3, 1], [0, 2]], num_samples=4)] == [[1, 3], [0, 2]]
    with pytest.raises(FederatedError, match="repeats"):
        fl.given([[0, 1], [1, 2]])
    with pytest.raises(FederatedError, match="outside"):
        fl.given([[0, 5]], num_samples=4)
    with pytest.raises(FederatedError, match="empty"):
        fl.given([[0], []])
    with pytest.raises(FederatedError, match="alpha"):
        fl.dirichlet(LABELS, 4, 0.0)
    with pytest.raises(FederatedError, match="clients"):
        fl.iid(3, 5)


def test_samplers() -> None:
    assert fl.AllClients().sample(0, 5, 0) == [0, 1, 2, 3, 4]
    s = fl.UniformFraction(0.3)
    picks = [s.sample(r, 10, 7) for r in range(20)]
    assert all(len(p) == 3 and len(set(p)) == 3 for p in picks)
    assert picks == [s.sample(r, 10, 7) for r in range(20)]
    assert len({tuple(p) for p in picks}) > 5
    b = fl.Bernoulli(0.5)
    sizes = [len(b.sample(r, 100, 0)) for r in range(10)]
    assert 30 < np.mean(sizes) < 70 and len(set(sizes)) > 1
    assert fl.CustomSampler(lambda r, n, seed: [r % n, 0]).sample(3, 5, 0) == [0, 3]
    with pytest.raises(FederatedError):
        fl.CustomSampler(lambda r, n, seed: [9]).sample(0, 5, 0)


def test_long_tail_counts_by_hand_and_with_dirichlet() -> None:
    y = np.repeat(np.arange(3), 100)  # 100 per class
    idx = fl.long_tail(y, imbalance_factor=0.01, seed=0)
    assert np.bincount(y[idx]).tolist() == [100, 10, 1]  # 100 * 0.01^(c / 2)
    parts = fl.long_tail_dirichlet(y, 3, alpha=0.5, imbalance_factor=0.1, seed=0)
    joined = np.concatenate(parts)
    assert np.bincount(y[joined]).tolist() == [100, 31, 10] and len(set(joined.tolist())) == joined.size


def test_power_law_sizes_similarity_and_label_scarcity() -> None:
    parts = fl.power_law_sizes(1000, 10, exponent=1.5, seed=0, min_size=5)
    sizes = sorted((len(p) for p in parts), reverse=True)
    assert sum(sizes) == 1000 and sizes[0] > 4 * sizes[4] and min(sizes) >= 5
    assert len(set(np.concatenate(parts).tolist())) == 1000
    y = np.repeat(np.arange(10), 50)
    iid_like = fl.similarity(y, 5, s=1.0, seed=0)
    sorted_split = fl.similarity(y, 5, s=0.0, seed=0)
    assert all(len(np.unique(y[p])) == 10 for p in iid_like)
    assert all(len(np.unique(y[p])) == 2 for p in sorted_split)  # contiguous runs of the sorted labels
    half = fl.similarity(y, 5, s=0.5, seed=0)
    assert all(len(p) == 100 for p in half)
    labelled, unlabelled = fl.label_scarce(sorted_split, 0.1, seed=0)
    assert [len(p) for p in labelled] == [10] * 5 and [len(p) for p in unlabelled] == [90] * 5
    assert all(set(a) | set(b) == set(p) and not set(a) & set(b)
               for a, b, p in zip(labelled, unlabelled, sorted_split))


def test_feature_shift_transforms_reach_the_clients_batches() -> None:
    import torch

    styles = fl.feature_shift(3, seed=0)
    x = torch.ones(30, 2)
    ds = torch.utils.data.TensorDataset(x, torch.zeros(30, dtype=torch.long))
    data = fl.FederatedData.partitioned(ds, fl.iid(30, 3), transforms=styles)
    seen = {}

    def loss(model, batch, ctx):
        seen[int(ctx.client)] = batch[0][0, 0].item()
        return (model(batch[0]) ** 2).mean()

    sim = fl.FederatedSimulator(torch.nn.Linear(2, 1), loss, data, recipe=fl.LocalRecipe(steps=1, batch_size=4))
    sim.round()
    assert seen == pytest.approx({k: styles[k].scale + styles[k].shift for k in range(3)})
    assert len({round(v, 6) for v in seen.values()}) == 3


def test_graph_subgraphs_recover_planted_communities() -> None:
    import networkx as nx

    g = nx.stochastic_block_model([20, 20, 20], [[0.5, 0.01, 0.01], [0.01, 0.5, 0.01], [0.01, 0.01, 0.5]], seed=1)
    parts = fl.graph_subgraphs(g, 3, seed=0)
    assert sorted(len(p) for p in parts) == [20, 20, 20]
    blocks = [set(range(20 * b, 20 * b + 20)) for b in range(3)]
    assert all(any(set(p.tolist()) == blk for blk in blocks) for p in parts)
    rand = fl.graph_subgraphs(g, 4, method="random", seed=0)
    assert sorted(np.concatenate(rand).tolist()) == list(range(60))
