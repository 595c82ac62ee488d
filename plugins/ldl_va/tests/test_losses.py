"""LDL-VA's label-distribution construction and losses against hand computations."""
from __future__ import annotations

import math

import torch

from zoo_plugins.ldl_va.losses import (center_repulsion, code_center_update, discriminative_loss,
                                       distribution_cross_entropy, local_similarity, target_distribution,
                                       va_neighbours)


def test_va_neighbours_match_brute_force_and_exclude_self() -> None:
    g = torch.Generator().manual_seed(0)
    va = torch.rand(50, 2, generator=g) * 2 - 1
    index, sq = va_neighbours(va, 5)
    dist = torch.cdist(va, va).square()
    dist.fill_diagonal_(float("inf"))
    expected = dist.topk(5, largest=False).indices
    assert torch.equal(index, expected)
    assert not (index == torch.arange(50)[:, None]).any()
    torch.testing.assert_close(sq, dist.gather(1, expected))


def test_local_similarity_paper_l2_and_code_l1() -> None:
    va = torch.tensor([[0.0, 0.0], [0.3, -0.4], [1.0, 1.0]])
    index = torch.tensor([[1, 2], [0, 2], [0, 1]])
    s2 = local_similarity(va, index, "l2", delta=0.5)
    assert math.isclose(float(s2[0, 0]), math.exp(-0.25 / 0.25), rel_tol=1e-6)  # ||d||^2 = 0.25, delta^2 = 0.25
    s1 = local_similarity(va, index, "l1")
    assert math.isclose(float(s1[0, 0]), math.exp(-0.7 / 0.5), rel_tol=1e-6)  # |0.3| + |0.4| = 0.7
    # a pair where neither point sits at the origin (a_1 - a_2 = (-0.7, -1.4)), with the paper's default delta = 0.5
    default = local_similarity(va, index)
    assert math.isclose(float(default[1, 1]), math.exp(-(0.49 + 1.96) / 0.25), rel_tol=1e-5)
    assert math.isclose(float(s1[1, 1]), math.exp(-(0.7 + 1.4) / 0.5), rel_tol=1e-5)


def test_target_distribution_mixes_label_and_weighted_neighbours() -> None:
    labels = torch.tensor([0, 2])
    nb = torch.tensor([[[0.2, 0.8, 0.0], [0.0, 0.0, 1.0]], [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]]])
    sim = torch.tensor([[1.0, 0.5], [0.2, 0.2]])
    zeta = torch.tensor([[0.5, 1.0], [1.0, 1.0]])
    lam = torch.tensor([0.25, 1.0])
    d, d_tilde = target_distribution(labels, 3, nb, sim, zeta, lam)
    # sample 0: c = (0.5, 0.5) -> d~ = (0.1, 0.4, 0.5); d = 0.75 * e_0 + 0.25 * d~
    torch.testing.assert_close(d_tilde[0], torch.tensor([0.1, 0.4, 0.5]))
    torch.testing.assert_close(d[0], torch.tensor([0.775, 0.1, 0.125]))
    torch.testing.assert_close(d[1], d_tilde[1])  # lambda = 1: all neighbourhood
    torch.testing.assert_close(d.sum(1), torch.ones(2))


def test_a_sample_whose_neighbours_all_have_zero_weight_keeps_its_label() -> None:
    """zeta * s can underflow to 0 for every neighbour (far VA, no agreement): the target stays finite, d = (1 - λ)·e_y."""
    nb = torch.tensor([[[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]])
    d, d_tilde = target_distribution(torch.tensor([0]), 3, nb, torch.zeros(1, 2), torch.ones(1, 2), torch.tensor([0.5]))
    assert torch.isfinite(d).all() and torch.isfinite(d_tilde).all()
    torch.testing.assert_close(d[0], torch.tensor([0.5, 0.0, 0.0]))


def test_uncertainty_gradient_moves_towards_the_better_explanation() -> None:
    logits = torch.tensor([[0.0, 3.0, 0.0]])  # the network believes class 1
    nb = torch.tensor([[[0.0, 1.0, 0.0]]])  # and so do the neighbours
    u = torch.zeros(1, requires_grad=True)
    d, _ = target_distribution(torch.tensor([0]), 3, nb, torch.ones(1, 1), torch.ones(1, 1), torch.sigmoid(u))
    distribution_cross_entropy(d, logits).backward()
    assert u.grad is not None and float(u.grad) < 0  # gradient descent raises lambda: the label 0 looks wrong


def test_discriminative_loss_matches_the_formula() -> None:
    g = torch.Generator().manual_seed(1)
    v, mu = torch.randn(4, 9, generator=g), torch.randn(3, 9, generator=g)
    y, w = torch.tensor([0, 2, 2, 1]), torch.tensor([1.0, 0.5, 0.0, 0.25])
    attraction = 0.5 * sum(float(w[i]) * float((v[i] - mu[y[i]]).square().sum()) for i in range(4)) / 4
    repulsion = sum(math.exp(-float((mu[j] - mu[k]).square().sum()) / 3.0)  # sqrt(V) = 3
                    for j in range(3) for k in range(3) if j != k)
    got = discriminative_loss(v, y, mu, w, "sqrt")
    assert math.isclose(float(got), attraction + repulsion, rel_tol=1e-5)
    lin = center_repulsion(mu, "linear")
    assert math.isclose(float(lin), sum(math.exp(-float((mu[j] - mu[k]).square().sum()) / 9.0)
                                        for j in range(3) for k in range(3) if j != k), rel_tol=1e-5)


def test_code_center_update_pulls_centres_to_features_and_apart() -> None:
    centers = torch.zeros(2, 4)
    feats = torch.tensor([[1.0, 0, 0, 0], [1.0, 0, 0, 0], [0, 0, 0, -1.0]])
    code_center_update(centers, feats, torch.tensor([0, 0, 1]), torch.ones(3), alpha=0.5, repulsion_lr=0.1)
    assert centers[0, 0] > 0 and centers[1, 3] < 0
    before = (centers[0] - centers[1]).norm()
    code_center_update(centers, feats[:0], torch.tensor([], dtype=torch.long), torch.ones(0), 0.5, 1.0)
    assert (centers[0] - centers[1]).norm() > before  # repulsion alone pushes the centres apart


# ------------------------------------------------------------------------------------------------ hand-computed cases
def test_distribution_cross_entropy_by_hand() -> None:
    target = torch.tensor([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    logits = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 2.0]])
    p1 = [1 / 3] * 3
    z = math.exp(1) + 1 + math.exp(2)
    expected = (-(0.5 * math.log(p1[0]) + 0.5 * math.log(p1[1])) - math.log(math.exp(2) / z)) / 2
    assert math.isclose(float(distribution_cross_entropy(target, logits)), expected, rel_tol=1e-6)


def test_va_neighbours_with_duplicates_still_exclude_self() -> None:
    va = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    index, sq = va_neighbours(va, 2)
    for i in range(5):
        assert i not in index[i].tolist() and len(set(index[i].tolist())) == 2
    assert set(index[0].tolist()) == {1, 2} and set(index[3].tolist()) <= {0, 1, 2, 4}
    torch.testing.assert_close(sq[0], torch.zeros(2))
    import pytest

    from zoo.errors import DataError

    with pytest.raises(DataError, match="neighbours"):
        va_neighbours(va[:2], 2)


def test_code_center_update_is_the_centre_loss_step_then_the_repulsion_step() -> None:
    """mu_j -= alpha * sum_{y_i=j} w_i (mu_j - v_i) / (1 + n_j); then mu -= lr * grad of 1/2 sum_{j!=k} exp(...)."""
    g = torch.Generator().manual_seed(0)
    centers = torch.randn(3, 4, generator=g)
    feats, labels = torch.randn(5, 4, generator=g), torch.tensor([0, 0, 2, 2, 2])
    weight = torch.tensor([1.0, 0.5, 0.2, 0.0, 1.0])
    expected = centers.clone()
    for j in range(3):
        sel = labels == j
        expected[j] -= 0.5 * (weight[sel, None] * (centers[j] - feats[sel])).sum(0) / (1 + int(sel.sum()))
    mu = expected.clone().requires_grad_(True)
    pairs = sum(torch.exp(-(mu[j] - mu[k]).square().sum() / 4.0) for j in range(3) for k in range(3) if j != k)
    (grad,) = torch.autograd.grad(0.5 * pairs, mu)
    expected = expected - 0.1 * grad
    code_center_update(centers, feats, labels, weight, alpha=0.5, repulsion_lr=0.1, repulsion="linear")
    torch.testing.assert_close(centers, expected)


def test_calibration_is_a_sigmoid_of_the_pair_mlp_and_the_codes_clamp() -> None:
    from zoo_plugins.ldl_va.model import Calibration

    torch.manual_seed(0)
    calib = Calibration(3, (5,), clamp_min=None).eval()
    v_i, v_k = torch.randn(2, 3), torch.randn(2, 4, 3)
    zeta = calib(v_i, v_k)
    pairs = torch.cat([v_i[:, None].expand(2, 4, 3), v_k], -1).reshape(8, 6)
    torch.testing.assert_close(zeta, torch.sigmoid(calib.mlp(pairs)).view(2, 4))
    clamped = Calibration(3, (5,), clamp_min=-1.3).eval()
    torch.nn.init.zeros_(clamped.mlp[-1].weight)
    torch.nn.init.constant_(clamped.mlp[-1].bias, -10.0)  # g = -10 everywhere: clamped to -1.3
    torch.testing.assert_close(clamped(v_i, v_k), torch.full((2, 4), float(torch.sigmoid(torch.tensor(-1.3)))))
    torch.nn.init.constant_(clamped.mlp[-1].bias, 0.7)  # above the clamp: untouched
    torch.testing.assert_close(clamped(v_i, v_k), torch.full((2, 4), float(torch.sigmoid(torch.tensor(0.7)))))
