"""FPSORA: the QP re-weighting step on constructed cases (closed form = KKT system = a generic solver), the
projection step's identity (Eq. 12) and the monotone objective, the Eq. 13 projection, the clustering claim vs
PCA on digits, paper sizes, conformance."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

import zoo
import zoo.testing
from zoo.clustering import clustering_accuracy, digits_matrix, kmeans
from zoo.graphs import heat_kernel, knn_indices, pinv_sqrt
from zoo_plugins.fpsora.config import paper, tiny
from zoo_plugins.fpsora.data import lifted_rings
from zoo_plugins.fpsora.losses import (anchor_laplacian, fpsora_iterations, graph_objective, kkt_system,
                                       neighbour_sq_dists, optimal_weights, project, reweight,
                                       weights_to_laplacian)
from zoo_plugins.fpsora.train import embed


def test_conformance() -> None:
    zoo.testing.check_method("fpsora")


def test_qp_reweighting_hand_case() -> None:
    """d = (1, 2, 4): mu = (4, 2, 1) / 7, lambda = -4/7, optimum sum mu^2 d = 1 / sum(1/d) = 4/7 (Eq. 6-9)."""
    d = torch.tensor([[1.0, 2.0, 4.0]], dtype=torch.float64)
    mu = optimal_weights(d, eps=0.0)
    assert torch.allclose(mu, torch.tensor([[4.0, 2.0, 1.0]], dtype=torch.float64) / 7)
    a, b = kkt_system(d)
    sol = torch.linalg.solve(a, b)
    assert torch.allclose(sol[:, :3], mu) and float(sol[0, 3]) == pytest.approx(-4 / 7)
    assert float((mu ** 2 * d).sum()) == pytest.approx(4 / 7)
    # the default guard eps is tiny and positive: a duplicate neighbour (d = 0) takes all the weight, finitely;
    # small distances keep their exact ratios
    dup = optimal_weights(torch.tensor([[0.0, 1.0]], dtype=torch.float64))
    assert bool((dup >= 0).all()) and torch.allclose(dup, torch.tensor([[1.0, 0.0]], dtype=torch.float64))
    small = optimal_weights(torch.tensor([[1e-3, 2e-3]], dtype=torch.float64))
    assert torch.allclose(small, torch.tensor([[2 / 3, 1 / 3]], dtype=torch.float64), atol=1e-9)


def test_qp_closed_form_matches_a_generic_solver_and_beats_feasible_points() -> None:
    from scipy.optimize import minimize

    g = torch.Generator().manual_seed(0)
    d = torch.rand(5, 6, generator=g, dtype=torch.float64) * 3 + 0.1
    mu = optimal_weights(d, eps=0.0)
    a, b = kkt_system(d)
    assert torch.allclose(torch.linalg.solve(a, b)[:, :6], mu)
    for i in range(5):
        di = d[i].numpy()
        res = minimize(lambda m: 0.5 * float((m ** 2 * di).sum()), np.full(6, 1 / 6), method="SLSQP",
                       constraints=[{"type": "eq", "fun": lambda m: m.sum() - 1}], options={"ftol": 1e-14})
        assert np.allclose(res.x, mu[i].numpy(), atol=1e-5)
        other = torch.rand(6, generator=g, dtype=torch.float64)
        other = other / other.sum()  # any feasible mu does no better (Lemma 1's sqrt(w)/C included)
        assert float((mu[i] ** 2 * d[i]).sum()) <= float((other ** 2 * d[i]).sum())


def _setup(n: int = 120, k: int = 5, dim: int = 8):  # type: ignore[no-untyped-def]
    data = lifted_rings(n, input_dim=12)
    xc = data.x - data.x.mean(0)
    nbrs, sq = knn_indices(xc, k)
    lap_a = anchor_laplacian(heat_kernel(sq, 0.25 * float(sq.mean())), nbrs)
    y0 = xc @ torch.linalg.svd(xc, full_matrices=False)[2][:dim].T
    return data, nbrs, sq, lap_a, y0


def test_anchor_laplacian_weights_and_reweighting_lower_the_objective() -> None:
    """L_A carries w_ij / C_i^2 (C_i = sum_j sqrt(w_ij)); the optimal mu^2 give a smaller objective at the same
    projection (step 1 never increases Eq. 3)."""
    _, nbrs, sq, lap_a, y0 = _setup()
    w = heat_kernel(sq, 0.25 * float(sq.mean()))
    c = w.sqrt().sum(1, keepdim=True)
    assert torch.allclose(lap_a, weights_to_laplacian(w / c ** 2, nbrs))
    d = neighbour_sq_dists(y0, nbrs)
    assert float((w / c ** 2 * d).sum()) == pytest.approx(2 * graph_objective(y0, lap_a), rel=1e-10)
    assert graph_objective(y0, reweight(y0, nbrs)) < graph_objective(y0, lap_a)


def test_projection_step_keeps_the_reweighted_objective_eq12() -> None:
    """tr(Y_t^T L_A Y_t) = tr(Y_{t-1}^T L_o Y_{t-1}) <= tr(Y_{t-1}^T L_A Y_{t-1}), and M_t follows Eq. 11."""
    _, nbrs, _, lap_a, y0 = _setup()
    lap_o = reweight(y0, nbrs)
    a_pinv = pinv_sqrt(lap_a)
    y1 = project(y0, lap_o, a_pinv)
    assert graph_objective(y1, lap_a) == pytest.approx(graph_objective(y0, lap_o), rel=1e-8)
    assert graph_objective(y1, lap_a) < graph_objective(y0, lap_a)
    from zoo.graphs import psd_sqrt

    root_o = psd_sqrt(lap_o)
    m1 = a_pinv @ root_o @ (y0 @ y0.T) @ root_o @ a_pinv
    assert torch.allclose(y1 @ y1.T, m1, atol=1e-8)


def test_stopping_rule_and_defaults() -> None:
    """The loop stops once the relative decrease falls below ``tol`` (tol = 1: after the first iteration), also
    for objectives below 1; without ``tol`` it runs ``max_iter`` iterations; the defaults are tol = 0, eps = 1e-12,
    rcond = 1e-9."""
    _, nbrs, _, lap_a, y0 = _setup()
    y0 = 1e-4 * y0 / y0.norm()  # objective far below 1
    assert graph_objective(y0, lap_a) < 1e-6
    y, h = fpsora_iterations(y0, nbrs, lap_a, 6)
    assert len(h) == 7 and h[-1] < h[0]
    explicit = fpsora_iterations(y0, nbrs, lap_a, 6, 0.0, 1e-12, 1e-9)
    assert torch.equal(y, explicit[0]) and h == explicit[1]
    assert len(fpsora_iterations(y0, nbrs, lap_a, 6, tol=1.0)[1]) == 2
    rel = [(a - b) / a for a, b in zip(h, h[1:])]  # measured: 0.20, 0.26, 0.10, ...
    assert min(rel[:2]) > 0.15 > rel[2]
    assert len(fpsora_iterations(y0, nbrs, lap_a, 6, tol=0.15)[1]) == 4  # stops after the third iteration


def test_objective_decreases_monotonically_and_projection_reproduces_embedding() -> None:
    data = lifted_rings(150, input_dim=12)
    cfg = replace(tiny(), input_dim=12, dim=8, num_clusters=3, max_iter=15, tol=0.0)
    emb = embed(data.x, cfg)
    assert len(emb.history) == 16
    assert all(b <= a * (1 + 1e-10) for a, b in zip(emb.history, emb.history[1:]))
    assert emb.history[-1] < 0.95 * emb.history[0]
    # Eq. 13: P = (X^T)^+ Y is the least-squares projection; exact here only on the range of X
    fit = (data.x - emb.mean) @ emb.projection
    assert float((fit - emb.y).norm() / emb.y.norm()) < 1.0


def test_fpsora_clusters_digits_better_than_its_pca_start() -> None:
    """The central claim at test scale: on the tiny variant's 400 digits (d = 20, 15 iterations), k-means on the
    FPSORA embedding beats k-means on the PCA projection FPSORA starts from (the paper's protocol: the mean over
    single-start k-means runs, here 10; measured 0.744 -> 0.853)."""
    data = digits_matrix(400)
    emb = embed(data.x, tiny())

    def acc(y: torch.Tensor) -> float:
        return float(np.mean([clustering_accuracy(data.labels, kmeans(y, 10, n_init=1, seed=s).labels)
                              for s in range(10)]))

    start, end = acc(emb.y0), acc(emb.y)
    assert end > start + 0.05, (start, end)


def test_train_and_infer_round_trip() -> None:
    """The stored projection reproduces the training embedding well enough that evaluating new inputs through it
    (the released weights' path) keeps most of the training clustering quality; digits have constant pixels, so
    X is rank-deficient and P must come from an SVD-based least-squares solve."""
    model = zoo.build("fpsora-tiny")
    data = digits_matrix(200)
    result = zoo.train(model, data, steps=5)
    assert len(result.history["objective"]) == 6 and result.metrics["acc"] > 0.5
    out = zoo.infer(model, {"x": data.x[:20].float()})
    assert out["embedding"].shape == (20, 20)
    assert torch.allclose(out["embedding"], (data.x[:20] - model.mean) @ model.projection)
    fit = (data.x - model.mean) @ model.projection
    emb = result.extra["embedding"]
    assert float((fit - emb).norm() / emb.norm()) < 0.6
    assert zoo.evaluate(model, data)["acc"] > result.metrics["acc"] - 0.15


def test_paper_sizes() -> None:
    """JAFFE: 26x26 = 676 features, best Acc at d = 210, k = 10, sigma = 1 (Table 2 / Sect. 4.2)."""
    cfg = paper()
    assert (cfg.input_dim, cfg.dim, cfg.knn, cfg.sigma, cfg.num_clusters) == (676, 210, 10, 1.0, 10)
    assert tuple(zoo.build("fpsora-paper").projection.shape) == (676, 210)
