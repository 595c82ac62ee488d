"""SAC model: top-k selection, class embeddings, bilinear attention (fused == explicit), fusion formula, heads."""
from __future__ import annotations

import dataclasses
import math

import pytest
import torch

import zoo
from zoo_plugins.sac.config import tiny
from zoo_plugins.sac.dropping import drop_images, drop_mask
from zoo_plugins.sac.model import LowRankBilinearAttention, SACModel, fuse


def _model(**overrides: object) -> SACModel:
    torch.manual_seed(0)
    return SACModel(dataclasses.replace(tiny(), **overrides))


def test_shapes_topk_and_attention() -> None:
    model = _model().eval()
    x = torch.rand(5, 1, 8, 8)
    out = model(x, return_attention=True)
    assert out.logits1.shape == (5, 10) and out.logits2.shape == (5, 10)
    assert out.grid == (4, 4)
    assert out.topk.shape == (5, 3)
    assert torch.equal(out.topk, out.logits1.topk(3, dim=-1).indices)  # C_k: the 1st classifier's top-k
    assert torch.equal(out.logits1, model.backbone(x))  # the 1st classifier is the backbone's own head
    assert out.attention is not None and out.attention.shape == (5, 16, 3)
    torch.testing.assert_close(out.attention.sum(dim=1), torch.ones(5, 3))  # softmax over positions per class
    assert out.spatial_attention().shape == (5, 4, 4)


def test_couples_softmax_normalises_over_all_couples() -> None:
    model = _model(attention_norm="couples").eval()
    out = model(torch.rand(3, 1, 8, 8), return_attention=True)
    assert out.attention is not None
    torch.testing.assert_close(out.attention.sum(dim=(1, 2)), torch.ones(3))


def test_sdpa_path_equals_explicit_sum_over_couples() -> None:
    torch.manual_seed(1)
    for shared in (False, True):
        layer = LowRankBilinearAttention(12, 7, 9, shared=shared, norm="positions", drop_f=0.0, drop_e=0.0).double()
        feats, classes = torch.randn(4, 6, 12).double(), torch.randn(4, 3, 7).double()
        joint, m = layer(feats, classes, return_attention=True)
        pa, qa, p, q = layer.factors(feats, classes)
        assert (pa is p) == shared
        # J = sum_i sum_j M_ij (P_i * Q_j), written as plain loops over the couples
        expected = torch.zeros(4, 9, dtype=torch.float64)
        for i in range(6):
            for j in range(3):
                expected += m[:, i, j, None] * p[:, i] * q[:, j]
        torch.testing.assert_close(joint, expected)
        logits = torch.einsum("bfh,bkh->bfk", pa, qa)
        torch.testing.assert_close(m, logits.softmax(dim=1))


def test_joint_uses_the_attention_factors_not_the_values_when_separate() -> None:
    torch.manual_seed(2)
    layer = LowRankBilinearAttention(5, 5, 4, shared=False, norm="positions", drop_f=0.0, drop_e=0.0)
    feats, classes = torch.randn(2, 3, 5), torch.randn(2, 2, 5)
    pa, qa, p, q = layer.factors(feats, classes)
    wrong = LowRankBilinearAttention.joint_fused(p, q, p, q)
    right = LowRankBilinearAttention.joint_fused(pa, qa, p, q)
    assert not torch.allclose(wrong, right)


def test_class_embeddings_gather_matches_direct_gru() -> None:
    model = _model().eval()
    enc = model.class_encoder
    with torch.no_grad():
        all_classes = enc()
        for c in (0, 7):
            ids = enc.token_ids[c:c + 1]
            _, h = enc.gru(enc.embedding(ids))
            torch.testing.assert_close(all_classes[c], h[-1, 0])
        assert enc() is all_classes  # cached in eval / no-grad
        enc.gru.weight_hh_l0.add_(0.1)  # a weight change invalidates the cache
        assert not torch.allclose(enc(), all_classes)


def test_fused_prediction_is_the_papers_formula() -> None:
    model = _model(alpha=0.3).eval()
    with torch.no_grad():
        out = model(torch.rand(4, 1, 8, 8))
        probs = model.probabilities(out)
    expected = 0.3 * out.logits1.softmax(-1) + 0.7 * out.logits2.softmax(-1)
    torch.testing.assert_close(probs, expected)
    torch.testing.assert_close(probs.sum(-1), torch.ones(4))


def test_topk_scope_renormalises_second_classifier_over_candidates() -> None:
    logits1, logits2 = torch.randn(3, 6), torch.randn(3, 6)
    topk = logits1.topk(2, dim=-1).indices
    probs = fuse(logits1, logits2, topk, alpha=0.0, scope="topk")
    torch.testing.assert_close(probs.sum(-1), torch.ones(3))
    outside = torch.ones_like(probs, dtype=torch.bool).scatter(-1, topk, False)
    assert torch.all(probs[outside] == 0)
    torch.testing.assert_close(probs.gather(-1, topk), logits2.gather(-1, topk).softmax(-1))


def test_residual_head_and_timm_backbones() -> None:
    for backbone, size in (("test_resnet", 64), ("test_vit", 64)):
        model = _model(backbone=backbone, in_chans=3, image_size=size, mean=(0.5,) * 3, std=(0.5,) * 3,
                       second_head="residual", shared_projections=True).eval()
        out = model(torch.rand(2, 3, size, size), return_attention=True)
        assert out.logits2.shape == (2, 10)
        f = out.grid[0] * out.grid[1]
        assert out.attention is not None and out.attention.shape == (2, f, 3)


def test_second_branch_trains_the_backbone() -> None:
    model = _model(drop_feature=0.0, drop_class=0.0, drop_joint=0.0)
    out = model(torch.rand(4, 1, 8, 8))
    torch.nn.functional.cross_entropy(out.logits2, torch.arange(4)).backward()
    conv = model.backbone.features[0][0].weight
    assert conv.grad is not None and conv.grad.abs().sum() > 0  # SAC's loss reaches the backbone features
    assert model.backbone.fc.weight.grad is None  # ... but not the 1st classifier (top-k is discrete)


def test_dropping_masks() -> None:
    attention = torch.zeros(2, 4, 4)
    attention[:, 1:3, 1:3] = 1.0
    images = torch.ones(2, 1, 8, 8)
    low = drop_images(images, attention, "low", 0.1)
    assert 0 < low.mean() < 1  # background erased
    assert torch.all(low[:, :, 3:5, 3:5] == 1)  # the attended centre kept
    high = drop_images(images, attention, "high", 0.1)
    assert torch.all(high[:, :, 3:5, 3:5] == 0)
    torch.manual_seed(0)
    assert drop_mask(attention, (8, 8), "wsdan", 0.1).mean() < 1
    with pytest.raises(ValueError):
        drop_mask(attention, (8, 8), "bogus", 0.1)


def test_config_errors() -> None:
    with pytest.raises(zoo.errors.ConfigError, match="top_k"):
        zoo.build("sac-tiny", top_k=11)
    with pytest.raises(zoo.errors.ConfigError, match="class_names"):
        zoo.build("sac-tiny", class_names=("a", "b"))
    with pytest.raises(zoo.errors.ConfigError, match="attention_norm"):
        zoo.build("sac-tiny", attention_norm="rows")


# ------------------------------------------------------------------------------------------------ hand-computed cases
def test_sac_loss_and_both_heads_by_hand() -> None:
    from zoo_plugins.sac.losses import sac_loss
    from zoo_plugins.sac.model import JointHead, ResidualHead, SACOutput

    logits1, logits2 = torch.tensor([[2.0, 0.0, 0.0]]), torch.tensor([[0.0, 1.0, 0.0]])
    out = SACOutput(logits1, logits2, torch.tensor([[0, 1]]), (1, 1))
    ce1 = -math.log(math.exp(2) / (math.exp(2) + 2))
    ce2 = -math.log(1 / (math.e + 2))
    loss, logs = sac_loss(out, torch.tensor([0]), 0.3)
    assert float(loss) == pytest.approx(ce1 + 0.3 * ce2) and logs["ce2"] == pytest.approx(ce2)
    torch.manual_seed(0)
    joint, feats = torch.randn(2, 5), torch.randn(2, 4, 6)
    head = ResidualHead(5, 6, 3, drop=0.5).eval()
    expected = head.fc((feats + head.up(joint)[:, None]).mean(1))
    torch.testing.assert_close(head(joint, feats), expected)
    jh = JointHead(5, 3, drop=0.5).eval()
    torch.testing.assert_close(jh(joint, feats), jh.fc(joint))


def test_couples_softmax_joint_is_the_double_sum() -> None:
    torch.manual_seed(3)
    layer = LowRankBilinearAttention(6, 5, 4, shared=False, norm="couples", drop_f=0.0, drop_e=0.0).double()
    feats, classes = torch.randn(2, 3, 6).double(), torch.randn(2, 2, 5).double()
    joint, m = layer(feats, classes, return_attention=True)
    pa, qa, p, q = layer.factors(feats, classes)
    logits = torch.einsum("bfh,bkh->bfk", pa, qa)
    torch.testing.assert_close(m, logits.flatten(1).softmax(1).view(2, 3, 2))
    expected = sum(m[:, i, j, None] * p[:, i] * q[:, j] for i in range(3) for j in range(2))
    torch.testing.assert_close(joint, expected)


def test_dropping_thresholds_are_exact() -> None:
    """low: keep where attention >= d_phi * max; high: keep where <= (1 - d_phi) * max; wsdan: keep < theta * max
    with theta ~ U(0.2, 0.5)."""
    attention = torch.tensor([[[1.0, 0.9, 0.5, 0.1, 0.05, 0.19, 0.51]]])
    keep_low = drop_mask(attention, (1, 7), "low", 0.1)[0, 0, 0]
    assert keep_low.tolist() == [1, 1, 1, 1, 0, 1, 1]
    keep_high = drop_mask(attention, (1, 7), "high", 0.1)[0, 0, 0]
    assert keep_high.tolist() == [0, 1, 1, 1, 1, 1, 1]
    torch.manual_seed(0)
    keep_ws = drop_mask(attention, (1, 7), "wsdan", 0.1)[0, 0, 0]
    assert keep_ws[[3, 4, 5]].tolist() == [1, 1, 1] and keep_ws[[0, 1, 6]].tolist() == [0, 0, 0]
    images = torch.full((1, 1, 1, 7), 2.0)
    torch.testing.assert_close(drop_images(images, attention, "low", 0.1), 2.0 * keep_low.view(1, 1, 1, 7))


def test_training_loss_averages_the_raw_and_the_dropped_view() -> None:
    from zoo_plugins.sac.losses import sac_loss
    from zoo_plugins.sac.train import make_loss_fn

    model = _model(drop_feature=0.0, drop_class=0.0, drop_joint=0.0).eval()
    images, labels = torch.rand(4, 1, 8, 8), torch.tensor([0, 1, 2, 3])
    config = dataclasses.replace(tiny(), second_weight=0.4)
    loss, logs = make_loss_fn(config)(model, (images, labels))
    out = model(images, return_attention=True)
    raw, _ = sac_loss(out, labels, 0.4)
    erased = drop_images(images, out.spatial_attention(), "low", config.d_phi)
    dropped, _ = sac_loss(model(erased), labels, 0.4)
    assert float(loss) == pytest.approx(0.5 * (float(raw) + float(dropped)), rel=1e-5)
    assert "ce1_drop" in logs
    none = dataclasses.replace(config, drop_mode="none")
    assert float(make_loss_fn(none)(model, (images, labels))[0]) == pytest.approx(float(raw), rel=1e-5)
