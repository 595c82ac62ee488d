"""ANMMF: the update rules against the objective's gradient, non-negativity and monotone decrease, the NMF special
case against scikit-learn, the HSIC and graph terms doing their jobs, clustering vs NMF, paper sizes, conformance."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

import zoo
import zoo.testing
from zoo.errors import InputError
from zoo_plugins.anmmf.config import ANMMFConfig, paper, tiny
from zoo_plugins.anmmf.data import digits, planted
from zoo_plugins.anmmf.losses import (centering, diversity_kernel, hsic_linear, objective, sweep, update_u,
                                      update_v)
from zoo_plugins.anmmf.train import cluster, factorize, graph_weights
from zoo.clustering import clustering_accuracy
from zoo.graphs import laplacian


def rand(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_conformance() -> None:
    zoo.testing.check_method("anmmf")


def test_hsic_and_diversity_kernel_against_definitions() -> None:
    n = 7
    a, b, c = rand(n, 3), rand(n, 2, seed=1), rand(n, 4, seed=2)
    h = centering(n)
    ka, kb, kc = a @ a.T, b @ b.T, c @ c.T
    assert float(hsic_linear(a, b)) == pytest.approx(float(torch.trace(h @ ka @ h @ kb)), rel=1e-12)
    assert torch.allclose(diversity_kernel([a, b, c], 0), h @ kb @ h + h @ kc @ h)
    # tr(V_i^T K V_i) = sum_{j != i} HSIC(V_i, V_j)  (Eq. 8)
    k = diversity_kernel([a, b, c], 0)
    assert float(torch.trace(a.T @ k @ a)) == pytest.approx(float(hsic_linear(a, b) + hsic_linear(a, c)))


def _objective_torch(x, us, vs, lap, l1, l2):  # type: ignore[no-untyped-def]
    recon = sum(((x - u @ v.T) ** 2).sum() for u, v in zip(us, vs))
    hs = sum(hsic_linear(vs[i], vs[j]) for i in range(len(vs)) for j in range(i + 1, len(vs)))
    return recon + l1 * hs + l2 * sum((v * (lap @ v)).sum() for v in vs)


@pytest.mark.parametrize("l1,l2", [(0.0, 0.0), (0.7, 0.0), (0.0, 3.0), (0.7, 3.0)])
def test_update_rules_are_scaled_gradient_steps(l1: float, l2: float) -> None:
    """Eq. 14 is V * num / den with den - num = dO/dV / 2 (and Eq. 11 likewise for U): so a fixed point of the
    update is a KKT point of Eq. 5, and the update's sign structure is the gradient's."""
    x = rand(6, 9)
    us = [rand(6, 2, seed=s) for s in (1, 2, 3)]
    vs = [rand(9, 2, seed=s).requires_grad_() for s in (4, 5, 6)]
    w = graph_weights(x.T, ANMMFConfig(input_dim=6, knn=3))
    lap = laplacian(w)
    _objective_torch(x, us, vs, lap, l1, l2).backward()
    i = 1
    v = vs[i].detach()
    k = diversity_kernel([t.detach() for t in vs], i)
    new = update_v(x, us[i], v, k, w, l1, l2, eps=0.0)
    # new = v * num / den  =>  den - num = (v - new) * den / v; recover den from the pieces of Eq. 14
    den = v @ (us[i].T @ us[i]) + l2 * (w.sum(1, keepdim=True) * v) + l1 * (k.clamp_min(0) @ v)
    assert torch.allclose((v - new) * den / v, 0.5 * vs[i].grad, atol=1e-10)
    ug = us[i].clone().requires_grad_()
    (((x - ug @ v.T) ** 2).sum()).backward()
    newu = update_u(x, us[i], v, eps=0.0)
    assert torch.allclose((us[i] - newu) * (us[i] @ (v.T @ v)) / us[i], 0.5 * ug.grad, atol=1e-10)


def test_update_edge_cases_and_defaults() -> None:
    """A lone attribute has no diversity term (K = 0, lambda_1 ignored); the default guard eps is tiny, and a zero
    denominator gives a zero (not NaN) update; a sweep with two attributes uses the HSIC term (Algorithm 1)."""
    x, u, v = rand(6, 9), rand(6, 2, seed=1), rand(9, 2, seed=2)
    w = graph_weights(x.T, ANMMFConfig(input_dim=6, knn=3))
    assert torch.equal(diversity_kernel([v], 0), torch.zeros(9, 9, dtype=torch.float64))
    assert torch.equal(update_v(x, u, v, None, w, 0.5, 2.0), update_v(x, u, v, None, w, 0.0, 2.0))
    assert torch.allclose(update_u(x, u, v), update_u(x, u, v, eps=0.0), rtol=1e-8, atol=0)
    k = diversity_kernel([v, rand(9, 2, seed=3)], 0)
    assert torch.allclose(update_v(x, u, v, k, w, 0.5, 2.0), update_v(x, u, v, k, w, 0.5, 2.0, eps=0.0),
                          rtol=1e-8, atol=0)
    zero_v = torch.zeros(9, 2, dtype=torch.float64)
    assert torch.equal(update_v(x, u, zero_v, k, w, 0.5, 2.0), zero_v)
    zero_u = torch.zeros(6, 2, dtype=torch.float64)
    assert torch.equal(update_u(x, zero_u, v), zero_u)
    us, vs = [u, rand(6, 2, seed=4)], [v, rand(9, 2, seed=5)]
    u0 = update_u(x, us[0], vs[0])
    v0 = update_v(x, u0, vs[0], diversity_kernel(vs, 0), w, 0.5, 2.0)
    u1 = update_u(x, us[1], vs[1])
    v1 = update_v(x, u1, vs[1], diversity_kernel([v0, vs[1]], 1), w, 0.5, 2.0)
    sweep(x, us, vs, w, 0.5, 2.0)
    assert all(torch.allclose(a, b) for a, b in zip([*us, *vs], [u0, u1, v0, v1]))


def test_sqrt_option_is_the_square_rooted_ratio_and_also_descends() -> None:
    """``update="sqrt"`` (Ding et al.'s rule, offered beside the paper's): the same ratios, square-rooted."""
    x, u, v = rand(6, 9), rand(6, 2, seed=1), rand(9, 2, seed=2)
    w = graph_weights(x.T, ANMMFConfig(input_dim=6, knn=3))
    k = diversity_kernel([v, rand(9, 2, seed=3)], 0)
    assert torch.allclose(update_u(x, u, v, eps=0.0, sqrt=True) ** 2, u * update_u(x, u, v, eps=0.0))
    assert torch.allclose(update_v(x, u, v, k, w, 0.5, 2.0, eps=0.0, sqrt=True) ** 2,
                          v * update_v(x, u, v, k, w, 0.5, 2.0, eps=0.0))
    data = planted(num_samples=60, input_dim=12, num_clusters=3)
    cfg = replace(tiny(), input_dim=12, rank=3, num_clusters=3, knn=4, lambda1=2.0, lambda2=5.0, init_iter=3,
                  max_iter=15, tol=0.0, update="sqrt")
    h = factorize(data.x.T, cfg, seed=0).history
    assert all(b <= a * (1 + 1e-12) for a, b in zip(h, h[1:])) and h[-1] < h[0]


def test_updates_keep_non_negativity_and_decrease_the_objective() -> None:
    """Theorem 1, measured: every sweep keeps U, V >= 0 and never raises O (planted data, V = 3, both terms on)."""
    data = planted(num_samples=90, input_dim=20, num_clusters=3)
    cfg = replace(tiny(), input_dim=20, rank=4, num_clusters=3, knn=5, lambda1=2.0, lambda2=5.0, init_iter=5,
                  max_iter=40, tol=0.0)
    fac = factorize(data.x.T, cfg, seed=0)
    assert len(fac.history) == 41
    rises = [b - a for a, b in zip(fac.history, fac.history[1:]) if b > a * (1 + 1e-12)]
    assert not rises, f"objective rose: {rises}"
    assert fac.history[-1] < 0.9 * fac.history[0]
    assert all(bool((t >= 0).all()) for t in fac.us + fac.vs)


def test_objective_terms_match_definitions() -> None:
    x, us, vs = rand(5, 8), [rand(5, 2, seed=1), rand(5, 2, seed=2)], [rand(8, 2, seed=3), rand(8, 2, seed=4)]
    lap = laplacian(graph_weights(x.T, ANMMFConfig(input_dim=5, knn=2)))
    t = objective(x, us, vs, lap, 0.5, 2.0)
    assert t["reconstruction"] == pytest.approx(sum(float(torch.linalg.norm(x - u @ v.T) ** 2)
                                                    for u, v in zip(us, vs)))
    assert t["hsic"] == pytest.approx(float(hsic_linear(vs[0], vs[1])))
    assert t["graph"] == pytest.approx(float(sum(torch.trace(v.T @ lap @ v) for v in vs)))
    assert t["objective"] == pytest.approx(t["reconstruction"] + 0.5 * t["hsic"] + 2.0 * t["graph"])


def test_nmf_special_case_is_sklearns_multiplicative_update() -> None:
    """V = 1, lambda_1 = lambda_2 = 0 is Lee & Seung's NMF: from the same start, our sweeps equal scikit-learn's
    multiplicative-update solver (its W is our U, its H our V^T; both update U then V)."""
    from sklearn.decomposition import NMF

    x = rand(12, 30) * 4
    u0, v0 = rand(12, 3, seed=1), rand(30, 3, seed=2)
    us, vs = [u0.clone()], [v0.clone()]
    for _ in range(25):
        sweep(x, us, vs, torch.zeros(0), 0.0, 0.0, eps=0.0)
    ref = NMF(3, init="custom", solver="mu", max_iter=25, tol=0.0)
    w = ref.fit_transform(x.numpy(), W=u0.numpy().copy(), H=v0.T.numpy().copy())
    assert np.allclose(us[0].numpy(), w, rtol=1e-7) and np.allclose(vs[0].T.numpy(), ref.components_, rtol=1e-7)


def test_hsic_term_makes_attributes_diverse_and_graph_term_smooths() -> None:
    """Same data and initialisation: lambda_1 > 0 lowers the HSIC between attributes, lambda_2 > 0 lowers
    tr(V^T L V) (each versus the run without its term)."""
    data = digits(150)
    base = replace(tiny(), num_samples=150, init_iter=10, max_iter=30, tol=0.0)
    plain = factorize(data.x.T, replace(base, lambda1=0.0, lambda2=0.0), seed=0).terms
    diverse = factorize(data.x.T, replace(base, lambda1=1.0, lambda2=0.0), seed=0).terms
    smooth = factorize(data.x.T, replace(base, lambda1=0.0, lambda2=10.0), seed=0).terms
    assert diverse["hsic"] < 0.5 * plain["hsic"]
    assert smooth["graph"] < 0.5 * plain["graph"]


def test_anmmf_clusters_digits_better_than_nmf() -> None:
    """The central claim at test scale: 300 digits, same seeds and k-means stage; ANMMF's ACC beats NMF's."""
    data = digits(300)
    base = replace(tiny(), num_samples=300, init_iter=30, max_iter=40, kmeans_init=5)
    accs = {}
    for name, cfg in {"nmf": replace(base, num_attributes=1, lambda1=0.0, lambda2=0.0), "anmmf": base}.items():
        per_seed = []
        for seed in (0, 1):
            fac = factorize(data.x.T, cfg, seed=seed)
            per_seed.append(clustering_accuracy(data.labels, cluster(fac.vs, cfg, seed)[0]))
        accs[name] = float(np.mean(per_seed))
    assert accs["anmmf"] > accs["nmf"] + 0.02, accs


def test_trained_model_infers_clusters_of_its_training_data() -> None:
    model = zoo.build("anmmf-tiny")
    data = digits(200)
    result = zoo.train(model, data, steps=10)
    assert result.metrics["acc"] > 0.5 and len(result.history["objective"]) == 11
    out = zoo.infer(model, {"x": data.x[:50].float()})
    assert out["representation"].shape == (50, 30) and bool((out["representation"] >= 0).all())
    # new samples are represented with the learned bases and land in the same cluster as during training
    agree = clustering_accuracy(result.extra["labels"][:50], out["cluster"])
    assert agree > 0.8
    with pytest.raises(InputError):
        zoo.infer(model, {"x": -data.x[:2].float()})


def test_paper_sizes() -> None:
    """The paper's ORL setting: V = 3 attributes, D = 1,024 (32x32 faces), c = k = 40; bases (3, 1024, 40)."""
    cfg = paper()
    assert (cfg.num_attributes, cfg.input_dim, cfg.num_clusters, cfg.knn) == (3, 1024, 40, 40)
    model = zoo.build("anmmf-paper")
    assert tuple(model.bases.shape) == (3, 1024, 40) and tuple(model.centers.shape) == (3, 40, 40)
