"""CFCD: MadaCos on a constructed batch, local matching and the super-feature triplet loss by hand, the two
training stages with hard-negative tuples, the paper's sizes, conformance."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch.nn import functional as F

import zoo
import zoo.testing
from zoo_plugins.cfcd.config import paper, tiny
from zoo_plugins.cfcd.losses import match_local, superfeature_triplet
from zoo_plugins.cfcd.model import CFCD, local_attention


def test_conformance() -> None:
    zoo.testing.check_method("cfcd")


def test_madacos_gives_the_median_sample_the_target_probability_alpha() -> None:
    head = CFCD(tiny()).head  # 20 classes, 32-d
    head.weight.data = torch.eye(20, 32)  # class j = e_j: a unit feature's cosines are its first 20 entries
    cos = torch.tensor([[0.30, 0.10, 0.00, -0.10, 0.05], [0.20, 0.45, 0.10, 0.00, 0.10],
                        [0.00, 0.10, 0.70, 0.20, 0.10]])
    rest = (1 - cos.pow(2).sum(1, keepdim=True)).sqrt()  # put the remaining norm in dimension 31 (no class)
    features = torch.cat([cos, torch.zeros(3, 26), rest], dim=1)
    targets = torch.tensor([0, 1, 2])
    logits = head(features, targets)
    scale = math.log(9999999 * 0.98 / 0.02) / (1 - 0.45)  # target cosines 0.3, 0.45, 0.7: the median is 0.45
    assert head.last_scale.item() == pytest.approx(scale, rel=1e-5)
    b = sum(math.exp(scale * c) for j, c in enumerate([0.20, 0.45, 0.10, 0.00, 0.10] + [0.0] * 15) if j != 1)
    margin = 0.45 - math.log(b * 0.02 / 0.98) / scale
    assert head.last_margin.item() == pytest.approx(margin, rel=1e-4) and margin > 0
    assert logits.softmax(1)[1, 1].item() == pytest.approx(0.02, rel=1e-3)  # the design: p_target = alpha
    torch.testing.assert_close(logits[0, 1:5], scale * cos[0, 1:])  # non-targets: plain s cos


def test_local_matching_by_hand() -> None:
    anchor = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]])
    positive = torch.tensor([[1.0, 0.05], [0.05, 1.0], [-1.0, 0.0], [0.69, 0.72]])
    attention = torch.tensor([3.0, 2.0, 1.0, 0.5])
    a_idx, p_idx = match_local(F.normalize(anchor, dim=-1), F.normalize(positive, dim=-1), attention, 0.9, 0.5)
    # mutual nearest pairs: (0, 0), (1, 1), (2, 3); positive 2 (pointing away) has no mutual partner; only the
    # top half of the positive by attention (0, 1) is kept
    assert list(zip(a_idx.tolist(), p_idx.tolist())) == [(0, 0), (1, 1)]
    defaults = match_local(F.normalize(anchor, dim=-1), F.normalize(positive, dim=-1), attention)  # 0.9, half
    assert [t.tolist() for t in defaults] == [a_idx.tolist(), p_idx.tolist()]
    a_all, p_all = match_local(F.normalize(anchor, dim=-1), F.normalize(positive, dim=-1), attention, 0.9, 1.0)
    assert list(zip(a_all.tolist(), p_all.tolist())) == [(0, 0), (1, 1), (2, 3)]
    ambiguous = torch.tensor([[1.0, 0.0], [0.99, 0.14]])  # two anchors nearly equal: Lowe's ratio rejects
    a_r, _ = match_local(F.normalize(ambiguous, dim=-1), F.normalize(torch.tensor([[1.0, 0.07]]), dim=-1),
                         torch.ones(1), keep=1.0)
    assert a_r.numel() == 0  # the default ratio 0.9 rejects it
    a_loose, _ = match_local(F.normalize(ambiguous, dim=-1), F.normalize(torch.tensor([[1.0, 0.07]]), dim=-1),
                             torch.ones(1), 1.5, 1.0)
    assert a_loose.numel() == 1  # a looser ratio accepts it


def test_superfeature_triplet_by_hand() -> None:
    e = torch.eye(3)
    local = torch.stack([e[[0, 1]], e[[0, 1]] + torch.tensor([[0.0, 0.2, 0.0], [0.2, 0.0, 0.0]]),
                         torch.stack([F.normalize(torch.tensor([1.0, 0.3, 0.0]), dim=0), e[2]])])  # (3, 2, 3)
    attention = torch.ones(3, 2)
    loss = superfeature_triplet(local, attention, margin=0.5, weight=0.05, keep=1.0)
    a, p = e[[0, 1]], F.normalize(local[1], dim=-1)
    n = local[2][[0, 0]]  # both anchors' nearest negative descriptor is the first one
    expected = 0.05 * sum(max(0.0, 0.5 + float((a[i] - p[i]).pow(2).sum() - (a[i] - n[i]).pow(2).sum()))
                          for i in range(2))
    assert loss.item() == pytest.approx(expected, rel=1e-5) and loss.item() > 0
    assert local_attention(torch.tensor([[[[1.0, -2.0]], [[0.5, 0.5]]]])).tolist() == [[1.5, 2.5]]


def _superfeature_reference(local: torch.Tensor, attention: torch.Tensor, margin: float, weight: float,
                            ratio: float, keep: float) -> float:
    """The fine-stage loss written out with loops: mutual NN, Lowe's ratio, attention top-k, hinge per negative."""
    f = F.normalize(local, dim=-1)
    a, p = f[0], f[1]
    d = torch.cdist(a, p)
    top = set(attention[1].argsort(descending=True)[: max(1, int(p.shape[0] * keep))].tolist())
    total = 0.0
    for j in range(p.shape[0]):
        i = int(d[:, j].argmin())
        column = d[:, j].sort().values
        if int(d[i].argmin()) != j or j not in top or column[0] > ratio * column[1]:
            continue
        for neg in f[2:]:
            n = neg[int(torch.cdist(a[i: i + 1], neg).argmin())]
            total += max(0.0, margin + float((a[i] - p[j]).pow(2).sum() - (a[i] - n).pow(2).sum()))
    return weight * total


def test_superfeature_triplet_against_a_loop_reference_and_its_defaults() -> None:
    torch.manual_seed(3)
    local = torch.randn(4, 8, 5)  # anchor, positive, two negatives
    attention = torch.rand(4, 8)
    for kwargs in ({}, {"keep": 1.0}, {"ratio": 1.0, "margin": 0.5}, {"weight": 1.0, "keep": 0.25}):
        args = {"margin": 0.1, "weight": 0.05, "ratio": 0.9, "keep": 0.5, **kwargs}
        expected = _superfeature_reference(local, attention, **args)
        assert superfeature_triplet(local, attention, **kwargs).item() == pytest.approx(expected, rel=1e-5, abs=1e-7)
    assert superfeature_triplet(local, attention, keep=1.0).item() > 0
    assert superfeature_triplet(local, attention, margin=2.0).item() > superfeature_triplet(local, attention).item()
    # nothing passes the ratio test: zero, but still a graph node (the trainer back-propagates it)
    anchors = F.normalize(torch.tensor([[1.0, 0.0], [0.99, 0.14]]), dim=-1)
    tuple_ = torch.stack([anchors, torch.tensor([[1.0, 0.07], [-1.0, 0.0]]), anchors]).requires_grad_(True)
    att = torch.tensor([[1.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    none = superfeature_triplet(tuple_, att)
    assert none.item() == 0.0 and none.requires_grad
    assert superfeature_triplet(tuple_, att, ratio=1.0, margin=0.5).item() > 0  # a looser ratio matches it


def test_two_stage_training_mines_hard_negative_tuples() -> None:
    from zoo.engines.retrieval.tasks import encode_all
    from zoo_plugins.cfcd.train import mine_tuples

    torch.manual_seed(0)
    cfg = replace(tiny(), stage1_steps=3, stage2_steps=1, tuples_per_batch=2, train_classes=8, per_class=3)
    model = CFCD(cfg)
    data = zoo.make_data("cfcd-tiny", "synthetic", "train")
    data = type(data)(data.images[: 8 * 12: 4], data.labels[: 8 * 12: 4], 8)  # 3 views of 8 landmarks
    from zoo.options import TrainOptions
    from zoo_plugins.cfcd.train import train

    result = train(model, data, cfg, TrainOptions(steps=4, progress=False))
    assert len(result.history["stage1/loss"]) == 3 and len(result.history["stage2/triplet"]) == 1
    assert "stage1/triplet" not in result.history  # the coarse stage is MadaCos alone
    tuples = mine_tuples(model, data, seed=0)
    labels = data.labels.numpy()
    desc = encode_all(model, model.descriptor, data.images).numpy()
    assert tuples.shape[1] == 8
    for a, p, *negs in tuples[:5]:
        assert labels[p] == labels[a] and p != a and len({labels[n] for n in negs}) == 6
        assert labels[a] not in {labels[n] for n in negs}
        dist = ((desc - desc[a]) ** 2).sum(1)
        nearest_other = min((d, i) for i, d in enumerate(dist) if labels[i] != labels[a])[1]
        assert negs[0] == nearest_other  # the hardest negative comes first


def test_paper_configuration_sizes() -> None:
    cfg = replace(paper(), pretrained=False)
    assert (cfg.dim, cfg.alpha, cfg.tuple_size, cfg.triplet_margin, cfg.triplet_weight, cfg.num_classes,
            cfg.image_size, cfg.lr) == (512, 0.02, 8, 0.1, 0.05, 81313, 512, 0.005)
    with torch.device("meta"):
        model = CFCD(cfg)
        out = model.features(torch.empty(2, 3, 512, 512))
    assert out["global"].shape == (2, 512) and out["local"].shape == (2, 16 * 16, 2048)  # res5 at stride 32
    count = sum(p.numel() for p in model.parameters())
    assert count == 42_500_160 + 2048 * 512 + 512 + 2 * 512 + 81313 * 512


@pytest.mark.slow
def test_local_reranking_improves_on_the_global_stage() -> None:
    torch.manual_seed(0)
    model = zoo.build("cfcd-tiny", seed=0)
    zoo.train(model, zoo.make_data(model, "synthetic", "train"), steps=210, progress=False)
    bench = zoo.make_data(model, "synthetic", "test")
    plain, reranked = zoo.evaluate(model, bench), zoo.evaluate(model, bench, rerank=20)
    assert reranked["mAP_hard"] > plain["mAP_hard"] + 0.02 and reranked["mAP_medium"] >= plain["mAP_medium"]
    assert np.isfinite(plain["mAP_medium"])
