"""The retrieval engine's margin heads, losses, pooling and samplers, against hand computations."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from zoo.engines.retrieval.heads import ArcFace, CosFace, MadaCos, madacos_scale_margin
from zoo.engines.retrieval.losses import UncertaintyWeighting, batch_hard_triplet, triplet_loss
from zoo.engines.retrieval.pooling import GeM, QueryAttentionPool, SpatialAttention2d, gem
from zoo.engines.retrieval.samplers import GroupedDataset, collate_groups, hard_negative_tuples, pk_groups


def test_arcface_adds_the_angular_margin_to_the_target_only() -> None:
    head = ArcFace(3, 3, scale=30.0, margin=0.15)
    head.weight.data = torch.eye(3)
    x = torch.tensor([[0.6, 0.8, 0.0], [-0.8, 0.0, 0.6]])  # unit rows: cosines are the entries
    logits = head(x, torch.tensor([1, 2]))
    theta = math.acos(0.8)
    assert logits[0, 1].item() == pytest.approx(30 * math.cos(theta + 0.15), rel=1e-5)
    assert logits[0, 0].item() == pytest.approx(30 * 0.6, rel=1e-5)  # non-target: plain s cos
    assert logits[1, 2].item() == pytest.approx(30 * math.cos(math.acos(0.6) + 0.15), rel=1e-5)
    far = head(torch.tensor([[0.01, 0.0, -1.0]]), torch.tensor([2]))  # theta > pi - m: linear fallback
    cos_t = -1.0 / math.sqrt(1 + 0.01 ** 2)
    assert cos_t < math.cos(math.pi - 0.15)
    assert far[0, 2].item() == pytest.approx(30 * (cos_t - math.sin(math.pi - 0.15) * 0.15), rel=1e-4)
    torch.testing.assert_close(head(x), 30 * x)  # inference: no margin


def test_cosface_subtracts_the_cosine_margin() -> None:
    head = CosFace(3, 3, scale=10.0, margin=0.35)
    head.weight.data = torch.eye(3)
    x = torch.tensor([[0.6, 0.8, 0.0]])
    torch.testing.assert_close(head(x, torch.tensor([0])), torch.tensor([[10 * (0.6 - 0.35), 8.0, 0.0]]))


def _madacos_by_hand(cos: np.ndarray, targets: list[int], alpha: float) -> tuple[float, float]:
    target = np.array([cos[i, t] for i, t in enumerate(targets)])
    order = np.argsort(target, kind="stable")
    med_i = int(order[(len(target) - 1) // 2])  # the lower median
    med = target[med_i]
    s = max(math.log(9999999 * (1 - alpha) / alpha) / (1 - med), 32.0)
    b = sum(math.exp(s * cos[med_i, j]) for j in range(cos.shape[1]) if j != targets[med_i])
    return s, max(med - math.log(b * alpha / (1 - alpha)) / s, 0.0)


def test_madacos_scale_and_margin_formulas_on_a_constructed_batch() -> None:
    cos = np.array([[0.20, -0.10, 0.05, 0.00], [0.10, 0.50, -0.20, 0.10], [0.00, 0.10, 0.80, 0.30]])
    s, m = madacos_scale_margin(torch.tensor(cos), torch.tensor([0, 1, 2]), alpha=0.02)
    hand_s, hand_m = _madacos_by_hand(cos, [0, 1, 2], 0.02)
    assert s.item() == pytest.approx(math.log(9999999 * 0.98 / 0.02) / 0.5, rel=1e-6)  # median cos = 0.5
    assert s.item() == pytest.approx(hand_s, rel=1e-6) and m.item() == pytest.approx(hand_m, rel=1e-5)
    torch.testing.assert_close(madacos_scale_margin(torch.tensor(cos), torch.tensor([0, 1, 2])), (s, m))  # alpha 0.02
    assert m.item() > 0
    low = np.array([[0.1, 0.0], [0.0, 0.05], [0.2, 0.15]])  # median 0.1: log(...)/0.9 = 22 < 32 -> floor
    s_low, m_low = madacos_scale_margin(torch.tensor(low), torch.tensor([0, 1, 1]), alpha=0.02)
    assert s_low.item() == 32.0 and m_low.item() == pytest.approx(_madacos_by_hand(low, [0, 1, 1], 0.02)[1])
    crowded = np.array([[0.3] + [0.29] * 100] * 3)  # many near negatives: B large -> margin clipped at 0
    assert madacos_scale_margin(torch.tensor(crowded), torch.tensor([0, 0, 0]), 0.02)[1].item() == 0.0


def test_madacos_head_treats_scale_and_margin_as_constants() -> None:
    torch.manual_seed(0)
    head = MadaCos(4, 5, alpha=0.02)
    x = torch.randn(6, 4, requires_grad=True)
    y = torch.tensor([0, 1, 2, 3, 4, 0])
    F.cross_entropy(head(x, y), y).backward()
    cos = head.cosine(x.detach())
    s, m = madacos_scale_margin(cos, y, 0.02)
    x2 = x.detach().clone().requires_grad_(True)
    ref = s * (head.cosine(x2) - m * F.one_hot(y, 5))
    F.cross_entropy(ref, y).backward()
    torch.testing.assert_close(x.grad, x2.grad)
    assert head.last_scale.item() == pytest.approx(s.item()) and head.last_margin.item() == pytest.approx(m.item())
    head.eval()
    torch.testing.assert_close(head(x.detach(), y), s * cos)  # evaluation: no margin


def test_triplet_losses_and_uncertainty_weighting() -> None:
    a, p, n = torch.tensor([[0.0, 0.0]]), torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 2.0]])
    assert triplet_loss(a, p, n, margin=0.5).item() == 0.0  # 0.5 + 1 - 4 < 0
    assert triplet_loss(a, p, torch.tensor([[0.0, 1.0]]), margin=0.5).item() == pytest.approx(0.5)
    feats = torch.tensor([[0.0], [1.0], [5.0], [3.0], [2.9]])
    labels = torch.tensor([0, 0, 1, 1, 2])
    loss = batch_hard_triplet(feats, labels, margin=1.0)
    by_hand = [max(0, 1 + 1 - 2.9), max(0, 1 + 1 - 1.9), max(0, 1 + 2 - 2.1), max(0, 1 + 2 - 0.1)]  # label 2: no pos
    assert loss.item() == pytest.approx(np.mean(by_hand))
    weighting = UncertaintyWeighting(2)
    weighting.log_vars.data = torch.tensor([0.0, math.log(4.0)])
    total = weighting([torch.tensor(2.0), torch.tensor(8.0)])
    assert total.item() == pytest.approx(0.5 * (2.0 + 0.0 + 8.0 / 4.0 + math.log(4.0)))


def test_pooling() -> None:
    x = torch.rand(2, 3, 4, 5) + 0.1
    torch.testing.assert_close(gem(x, 1.0), x.mean(dim=(-2, -1)))
    assert torch.allclose(gem(x, 60.0), x.amax(dim=(-2, -1)), rtol=0.05)
    assert isinstance(GeM(3.0, learnable=True).p, torch.nn.Parameter) and "p" not in GeM(3.0).state_dict()
    cube = x.pow(3).mean(dim=(-2, -1)).pow(1 / 3)  # the default exponent is 3 (DOLG, CFCD)
    torch.testing.assert_close(gem(x), cube)
    torch.testing.assert_close(GeM()(x), cube)
    low = torch.full((1, 2, 3, 3), 0.5)  # values above eps pass unchanged
    torch.testing.assert_close(GeM()(low), torch.full((1, 2), 0.5))
    signed = torch.tensor([[[[-1.0, 8.0], [-2.0, 0.0]]]])  # negatives are clamped to eps, not raised to p
    torch.testing.assert_close(gem(signed), torch.tensor([[(8.0 ** 3 / 4) ** (1 / 3)]]), rtol=1e-5, atol=1e-5)
    att = SpatialAttention2d(3, 6)
    local, weight = att(x)
    assert local.shape == (2, 6, 4, 5) and (weight > 0).all()
    torch.testing.assert_close(local.norm(dim=1), weight[:, 0])  # unit vectors scaled by the attention
    torch.manual_seed(0)
    wide = QueryAttentionPool(400, queries=50)  # queries start at unit expected norm (std dim^-1/2), learnable
    assert wide.queries.requires_grad and 0.9 < wide.queries.std().item() * 20 < 1.1
    assert wide.key.bias is None  # keys are a bias-free projection
    pool = QueryAttentionPool(5, queries=2)
    tokens, mask = torch.randn(2, 7, 5), torch.tensor([[1] * 7, [1] * 4 + [0] * 3])
    out = pool(tokens, mask)
    scores = pool.queries @ pool.key(tokens[1, :4]).T / math.sqrt(5)
    torch.testing.assert_close(out[1], scores.softmax(-1) @ tokens[1, :4])


def test_pk_groups_and_hard_negative_tuples() -> None:
    labels = np.array([0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4])
    groups = pk_groups(labels, k=4, rounds=2, seed=0)
    assert groups.shape == (10, 4) and all(len(set(labels[g])) == 1 for g in groups)
    feats = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [0.5], [9.0], [9.1], [1.0], [1.1], [7.0], [7.1]])
    tuples = hard_negative_tuples(labels, tuple_size=4, features=feats, seed=0, anchors=[0])
    a, p, *negs = tuples[0]
    assert a == 0 and labels[p] == 0 and p != 0
    assert negs == [5, 8]  # nearest images of the two nearest other classes (2 then 3)
    rand = hard_negative_tuples(labels, tuple_size=5, seed=1)
    assert all(len({labels[i] for i in row[2:]} | {labels[row[0]]}) == 4 for row in rand)
    base = [(torch.tensor([float(i)]), torch.tensor(int(c))) for i, c in enumerate(labels)]
    grouped = GroupedDataset(base, tuples)
    images, ids = collate_groups([grouped[0], grouped[0]])
    assert images.shape == (8, 1) and ids.tolist() == [0, 0, 2, 3] * 2
