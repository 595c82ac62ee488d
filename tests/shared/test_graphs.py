"""zoo.graphs against definitions, hand-computed small cases, networkx and scikit-learn."""
from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import torch
from sklearn.neighbors import NearestNeighbors, kneighbors_graph

import zoo.graphs as G
from zoo.errors import InputError


def points(n: int = 30, d: int = 4, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# ---------------------------------------------------------------- distances and kNN
def test_pairwise_sq_dists_matches_cdist() -> None:
    x, y = points(20), points(7, seed=1)
    assert torch.allclose(G.pairwise_sq_dists(x, y), torch.cdist(x, y) ** 2, atol=1e-10)
    d = G.pairwise_sq_dists(x)
    assert torch.equal(d, d.T) and bool((d.diagonal() == 0).all())


def test_knn_indices_match_sklearn() -> None:
    x = points(40)
    idx, dist = G.knn_indices(x, 5)
    nn_dist, nn_idx = NearestNeighbors(n_neighbors=6).fit(x.numpy()).kneighbors(x.numpy())
    assert np.array_equal(idx.numpy(), nn_idx[:, 1:])  # sklearn counts the point itself first
    assert np.allclose(dist.sqrt().numpy(), nn_dist[:, 1:], atol=1e-8)
    with_self, _ = G.knn_indices(x, 3, include_self=True)
    assert torch.equal(with_self[:, 0], torch.arange(40))


def test_knn_graph_binary_is_sklearn_connectivity_symmetrised() -> None:
    x = points(25)
    a = kneighbors_graph(x.numpy(), 4, mode="connectivity", include_self=False).toarray()
    assert np.array_equal(G.knn_graph(x, 4, symmetrize_with=None).numpy(), a)
    assert np.array_equal(G.knn_graph(x, 4).numpy(), np.maximum(a, a.T))
    assert np.array_equal(G.knn_graph(x, 4, symmetrize_with="min").numpy(), np.minimum(a, a.T))
    assert np.allclose(G.knn_graph(x, 4, symmetrize_with="mean").numpy(), (a + a.T) / 2)
    sparse = G.knn_graph(x, 4, sparse=True)
    assert sparse.is_sparse and torch.equal(sparse.to_dense(), G.knn_graph(x, 4))


def test_heat_kernel_hand_values() -> None:
    # points 0, 1, 3 on a line; each point's single nearest neighbour; t = 2
    x = torch.tensor([[0.0], [1.0], [3.0]], dtype=torch.float64)
    w = G.knn_graph(x, 1, weighting="heat", t=2.0, symmetrize_with=None)
    e1, e4 = math.exp(-1 / 2), math.exp(-4 / 2)
    assert torch.allclose(w, torch.tensor([[0, e1, 0], [e1, 0, 0], [0, e4, 0]], dtype=torch.float64))
    assert torch.allclose(G.heat_kernel(torch.tensor([0.0, 2.0]), 4.0), torch.tensor([1.0, math.exp(-0.5)]))
    with pytest.raises(InputError):
        G.heat_kernel(torch.tensor([1.0]), 0.0)


def test_cosine_weighting() -> None:
    x = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]], dtype=torch.float64)
    w = G.knn_graph(x, 1, weighting="cosine", symmetrize_with=None)
    assert w[0, 1] == pytest.approx(1 / math.sqrt(2)) and w[0, 2] == 0


def test_knn_rejects_bad_input() -> None:
    with pytest.raises(InputError):
        G.knn_indices(points(5), 5)
    with pytest.raises(InputError):
        G.knn_graph(torch.zeros(3), 1)
    with pytest.raises(InputError):
        G.knn_graph(torch.tensor([[0.0], [float("nan")]]), 1)


# ---------------------------------------------------------------- Laplacians
@pytest.fixture
def karate() -> tuple[nx.Graph, torch.Tensor]:
    g = nx.karate_club_graph()
    return g, G.adjacency_from_networkx(g, dtype=torch.float64)


def test_laplacians_match_networkx(karate: tuple[nx.Graph, torch.Tensor]) -> None:
    g, w = karate
    assert np.allclose(G.laplacian(w).numpy(), nx.laplacian_matrix(g).toarray())
    assert np.allclose(G.laplacian(w, "sym").numpy(), nx.normalized_laplacian_matrix(g).toarray())
    d = w.sum(1)
    assert torch.allclose(G.laplacian(w, "rw"), torch.eye(34, dtype=w.dtype) - w / d[:, None])
    for norm in (None, "sym", "rw"):  # sparse in, sparse out, same values
        sparse = G.laplacian(w.to_sparse(), norm)
        assert sparse.is_sparse and torch.allclose(sparse.to_dense(), G.laplacian(w, norm))


def test_laplacian_quadratic_form_and_spectrum() -> None:
    w = G.knn_graph(points(30), 5, weighting="heat")
    lap = G.laplacian(w)
    y = points(30, 3, seed=2)
    pair = 0.5 * sum(float(w[i, j]) * float(((y[i] - y[j]) ** 2).sum()) for i in range(30) for j in range(30))
    assert float(G.dirichlet_energy(lap, y)) == pytest.approx(pair, rel=1e-10)
    assert float(G.dirichlet_energy(lap.to_sparse(), y)) == pytest.approx(pair, rel=1e-10)
    assert torch.allclose(lap.sum(1), torch.zeros(30, dtype=lap.dtype), atol=1e-12)
    ev = torch.linalg.eigvalsh(G.laplacian(w, "sym"))
    assert ev.min() > -1e-10 and ev.max() < 2 + 1e-10


def test_isolated_node_gets_zero_rows() -> None:
    w = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    sym = G.laplacian(w, "sym")
    assert torch.equal(sym[2], torch.zeros(3)) and sym[0, 0] == 1.0 and sym[0, 1] == -1.0


def test_gcn_normalized_adjacency_hand_case() -> None:
    # path 0 - 1 - 2 with self loops: degrees 2, 3, 2
    a = torch.tensor([[0.0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=torch.float64)
    s = 1 / math.sqrt(6)
    want = torch.tensor([[1 / 2, s, 0], [s, 1 / 3, s], [0, s, 1 / 2]], dtype=torch.float64)
    assert torch.allclose(G.normalized_adjacency(a), want)
    assert torch.allclose(G.normalized_adjacency(a.to_sparse()).to_dense(), want)


# ---------------------------------------------------------------- hypergraphs
def small_hypergraph() -> torch.Tensor:
    """4 vertices, hyperedges e0 = {0, 1, 2}, e1 = {2, 3}."""
    return G.incidence_from_hyperedges([[0, 1, 2], [2, 3]], 4, dtype=torch.float64)


def test_incidence_and_degrees_hand_case() -> None:
    h = small_hypergraph()
    assert torch.equal(h, torch.tensor([[1.0, 0], [1, 0], [1, 1], [0, 1]], dtype=torch.float64))
    dv, de = G.hypergraph_degrees(h, torch.tensor([1.0, 2.0], dtype=torch.float64))
    assert dv.tolist() == [1.0, 1.0, 3.0, 2.0] and de.tolist() == [3.0, 2.0]
    with pytest.raises(InputError):
        G.incidence_from_hyperedges([[0, 4]], 4)


def test_hypergraph_propagation_hand_case() -> None:
    # unit weights: dv = (1, 1, 2, 1), de = (3, 2)
    # Theta_uv = sum_e h_ue h_ve / de(e) / sqrt(dv_u dv_v)
    h = small_hypergraph()
    r2 = math.sqrt(2)
    want = torch.tensor([
        [1 / 3, 1 / 3, 1 / (3 * r2), 0],
        [1 / 3, 1 / 3, 1 / (3 * r2), 0],
        [1 / (3 * r2), 1 / (3 * r2), (1 / 3 + 1 / 2) / 2, 1 / (2 * r2)],
        [0, 0, 1 / (2 * r2), 1 / 2],
    ], dtype=torch.float64)
    theta = G.hypergraph_propagation(h)
    assert torch.allclose(theta, want)
    assert torch.allclose(G.hypergraph_propagation(h.to_sparse()).to_dense(), want)
    assert torch.allclose(G.hypergraph_laplacian(h), torch.eye(4, dtype=h.dtype) - want)


def test_hypergraph_laplacian_is_psd_with_unit_top_eigenvalue() -> None:
    h = G.knn_incidence(points(40), 5)
    w = torch.rand(40, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    theta = G.hypergraph_propagation(h, w)
    ev = torch.linalg.eigvalsh(theta)
    assert ev.min() > -1e-10 and ev.max() == pytest.approx(1.0, abs=1e-10)  # Dv^1/2 1 is the top eigenvector
    dv, _ = G.hypergraph_degrees(h, w)
    assert torch.allclose(theta @ dv.sqrt(), dv.sqrt())


def test_two_vertex_hyperedges_give_half_the_graph_laplacian(karate: tuple[nx.Graph, torch.Tensor]) -> None:
    """A hypergraph whose hyperedges are the edges of a graph has Zhou Laplacian = 1/2 the normalised graph
    Laplacian (Zhou et al. 2006 / HGNN's remark)."""
    g, _ = karate
    w = G.adjacency_from_networkx(g, weight=None, dtype=torch.float64)
    h = G.incidence_from_hyperedges([list(e) for e in g.edges], 34, dtype=torch.float64)
    assert torch.allclose(G.hypergraph_laplacian(h), 0.5 * G.laplacian(w, "sym"), atol=1e-12)
    assert torch.allclose(G.clique_expansion(h), w)


def test_incidence_from_adjacency_is_neighbourhoods_plus_self() -> None:
    a = torch.tensor([[0.0, 1, 0], [1, 0, 1], [0, 1, 0]])
    assert torch.equal(G.incidence_from_adjacency(a), torch.tensor([[1.0, 1, 0], [1, 1, 1], [0, 1, 1]]))


def test_knn_incidence_heat_weights_follow_eq10() -> None:
    x = torch.tensor([[0.0], [1.0], [3.0]], dtype=torch.float64)
    h = G.knn_incidence(x, 1)
    delta = (1 + 3 + 2) / 3  # mean pairwise distance
    # hyperedge e = vertex e + its nearest neighbour: e0 = {0, 1}, e1 = {1, 0}, e2 = {2, 1}
    want = torch.tensor([[1, math.exp(-2 / delta), 0],
                         [math.exp(-2 / delta), 1, math.exp(-2 * 4 / delta)],
                         [0, 0, 1]], dtype=torch.float64)
    assert torch.allclose(h, want)
    assert torch.equal(G.knn_incidence(x, 1, weighting="binary"), (want > 0).double())


def test_incidence_power_hand_case_and_order_operators() -> None:
    # path 0 - 1 - 2: H = A + I; H^2 counts 2-step chains
    h = G.incidence_from_adjacency(torch.tensor([[0.0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=torch.float64))
    assert torch.equal(G.incidence_power(h, 2), torch.tensor([[2.0, 2, 1], [2, 3, 2], [1, 2, 2]],
                                                             dtype=torch.float64))
    assert torch.equal(G.incidence_power(h, 2, binarize=True), torch.ones(3, 3, dtype=torch.float64))
    assert torch.equal(G.incidence_power(h, 1), h)
    ops = G.higher_order_propagations(h, [1, 2])
    assert torch.allclose(ops[0], G.hypergraph_propagation(h))
    assert torch.allclose(ops[1], G.hypergraph_propagation(G.incidence_power(h, 2)))
    with pytest.raises(InputError):
        G.incidence_power(torch.ones(3, 2), 2)


# ---------------------------------------------------------------- spectral, sparse
def test_psd_functions() -> None:
    w = G.knn_graph(points(20), 4, weighting="heat")
    lap = G.laplacian(w)
    root = G.psd_sqrt(lap)
    assert torch.allclose(root @ root, lap, atol=1e-10)
    assert torch.allclose(G.pinv_sqrt(lap), torch.linalg.pinv(root, hermitian=True, rtol=1e-8), atol=1e-8)
    assert torch.allclose(G.psd_power(lap, -1.0), torch.linalg.pinv(lap, hermitian=True, rtol=1e-8), atol=1e-8)


def test_scipy_and_networkx_round_trip() -> None:
    g = nx.les_miserables_graph()
    a = G.adjacency_from_networkx(g, sparse=True, dtype=torch.float64)
    ref = nx.to_numpy_array(g)
    assert a.is_sparse and np.allclose(a.to_dense().numpy(), ref)
    assert np.allclose(G.to_scipy(a).toarray(), ref)
    assert torch.equal(G.from_scipy(G.to_scipy(a), torch.float64).to_dense(), a.to_dense())
    binary = G.adjacency_from_networkx(g, weight=None)
    assert set(binary.unique().tolist()) == {0.0, 1.0}
    y = points(a.shape[0], 2)
    assert torch.allclose(G.matmul(a, y), a.to_dense() @ y)


def test_singleton_hyperedges_and_binarized_powers() -> None:
    """A one-vertex hyperedge has degree 1 (1 / d_e = 1, not dropped as if empty); an empty one contributes
    nothing; ``binarize`` keeps exactly the support of H^k (zeros stay zeros)."""
    h = torch.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0]])  # e0 = {v0}, e1 = {v0, v1}, e2 = {}
    dv, de = h.sum(1), h.sum(0)
    inv_de = torch.tensor([1.0, 0.5, 0.0])
    want = torch.diag(dv.rsqrt()) @ h @ torch.diag(inv_de) @ h.T @ torch.diag(dv.rsqrt())
    assert torch.allclose(G.hypergraph_propagation(h), want)
    assert float(want[0, 0]) == pytest.approx(0.5 * (1.0 + 0.5))
    path = torch.tensor([[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]])
    power = G.incidence_power(path, 2, binarize=True)
    assert torch.equal(power, ((path @ path) > 0).float()) and float(power[0, 3]) == 0.0
    assert G.incidence_from_adjacency(torch.zeros(2, 2, dtype=torch.float64)).dtype == torch.float64
    assert G.incidence_from_adjacency(torch.zeros(2, 2, dtype=torch.int64)).dtype == torch.float32
