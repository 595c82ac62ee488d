"""Dist-CAM: Eqs. 4-7 on hand-computed feature maps, the CAM baseline (Eq. 3), the localisation protocol, the
utility over an arbitrary embedding model on a constructed image pair (the map highlights the region whose
removal moves the query away from the prototype), the paper's sizes, and a trained tiny model."""
from __future__ import annotations

import pytest
import torch
from torch import nn

import zoo
import zoo.testing
from zoo.errors import ConfigError, InputError
from zoo_plugins.dist_cam.cam import box_iou, cam, channel_weights, class_prototypes, dist_cam, heatmap_box, upsample
from zoo_plugins.dist_cam.data import placed_digits
from zoo_plugins.dist_cam.explain import DistCAM, find_feature_layer


def test_conforms() -> None:
    zoo.testing.check_method("dist-cam")


# ---------------------------------------------------------------------------------------- the equations


def test_dist_cam_hand_computed() -> None:
    """K = 2 channels on 1x2 maps: GAP(Q) = (2, 1); S = (1.5, 3): D = (0.5, 2), 1/D = (2, 0.5),
    W (sum) = (0.8, 0.2); M = 0.8 Q_0 + 0.2 Q_1."""
    q = torch.tensor([[[[1.0, 3.0]], [[2.0, 0.0]]]])  # [1, 2, 1, 2]
    s = torch.tensor([1.5, 3.0])
    w = channel_weights(q, s, eps=0.0)
    assert w.flatten().tolist() == pytest.approx([0.8, 0.2])
    assert dist_cam(q, s, eps=0.0).flatten().tolist() == pytest.approx([0.8 * 1 + 0.2 * 2, 0.8 * 3 + 0.2 * 0])
    assert channel_weights(q, s, "max", eps=0.0).flatten().tolist() == pytest.approx([1.0, 0.25])
    assert channel_weights(q, s, "minmax", eps=0.0).flatten().tolist() == pytest.approx([1.0, 0.0])
    # the closer a channel is to the reference, the larger its weight: swap the distances, swap the weights
    assert channel_weights(q, torch.tensor([4.0, 1.5]), eps=0.0).flatten().tolist() == pytest.approx([0.2, 0.8])
    # the default eps only guards a zero distance: same weights to 1e-5; an exact match gets (almost) all weight
    assert channel_weights(q, s).flatten().tolist() == pytest.approx([0.8, 0.2], abs=1e-5)
    exact = channel_weights(q, torch.tensor([2.0, 3.0]))
    assert bool(torch.isfinite(exact).all()) and bool((exact >= 0).all()) and float(exact[0, 0]) > 0.999
    # equal distances: minmax has nothing to spread (0, not NaN)
    assert channel_weights(q, torch.tensor([3.0, 2.0]), "minmax").flatten().tolist() == [0.0, 0.0]
    with pytest.raises(ConfigError):
        channel_weights(q, s, "softmax")
    with pytest.raises(InputError):
        dist_cam(q[0], s)


def test_references_per_image_and_prototypes_are_class_means() -> None:
    g = torch.Generator().manual_seed(0)
    q = torch.rand(3, 4, 2, 2, generator=g)
    refs = torch.rand(3, 4, generator=g)
    for norm in ("sum", "max", "minmax"):
        batched = dist_cam(q, refs, norm)
        for i in range(3):
            assert torch.allclose(batched[i], dist_cam(q[i:i + 1], refs[i], norm)[0])
    feats = torch.tensor([[1.0, 0.0], [3.0, 2.0], [5.0, 5.0]])
    assert class_prototypes(feats, torch.tensor([0, 0, 2]), 3).tolist() == [[2.0, 1.0], [0.0, 0.0], [5.0, 5.0]]


def test_cam_baseline_uses_the_fc_weights() -> None:
    q = torch.tensor([[[[1.0, 3.0]], [[2.0, 0.0]]]])
    w = torch.tensor([[1.0, -1.0], [0.5, 2.0]])
    assert cam(q, w, torch.tensor([1])).flatten().tolist() == pytest.approx([4.5, 1.5])


def test_box_of_the_largest_component_and_iou() -> None:
    h = torch.zeros(6, 8)
    h[1:3, 1:3] = 1.0  # 4 pixels
    h[3:6, 4:8] = 0.5  # 12 pixels, above 0.2 x max
    h[0, 7] = 0.1      # below the threshold
    assert heatmap_box(h, 0.2) == (4, 3, 8, 6)
    assert heatmap_box(h, 0.6) == (1, 1, 3, 3)
    assert box_iou((0, 0, 2, 2), (1, 1, 3, 3)) == pytest.approx(1 / 7)
    assert box_iou((0, 0, 2, 2), (2, 2, 4, 4)) == 0.0
    # off-origin, non-square: inter 2 x 1, areas 10 and 10 -> 2 / 18, either order
    assert box_iou((1, 2, 6, 4), (3, 3, 5, 8)) == pytest.approx(1 / 9)
    assert box_iou((3, 3, 5, 8), (1, 2, 6, 4)) == pytest.approx(1 / 9)
    assert box_iou((1, 1, 4, 3), (1, 1, 4, 3)) == 1.0
    assert box_iou((0, 0, 2, 2), (2, 0, 4, 2)) == 0.0  # touching edges
    assert box_iou((1, 1, 1, 1), (1, 1, 1, 1)) == 0.0  # empty boxes
    up = upsample(torch.tensor([[[0.0, 2.0], [1.0, 1.0]]]), (4, 4))
    assert up.shape == (1, 4, 4) and float(up.min()) == 0.0 and float(up.max()) == 1.0


# ---------------------------------------------------------------- a constructed pair, any embedding model


class BarDetector(nn.Module):
    """A fixed "embedding model": channel 0 fires on horizontal bars, channel 1 on vertical bars (3x3 line
    filters minus their surround, ReLU), then GAP; no FC layer."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1, bias=False)
        line = torch.zeros(3, 3)
        line[1] = 1.0
        with torch.no_grad():
            self.conv.weight[0, 0] = line - 1 / 3
            self.conv.weight[1, 0] = line.T - 1 / 3
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(x)).mean((2, 3))


def canvas(horizontal: bool, vertical: bool) -> torch.Tensor:
    x = torch.zeros(1, 1, 16, 16)
    if horizontal:
        x[0, 0, 3, 1:7] = 1.0   # top-left
    if vertical:
        x[0, 0, 9:15, 12] = 1.0  # bottom-right
    return x


def test_map_highlights_the_region_that_changes_the_distance() -> None:
    model = BarDetector()
    explainer = DistCAM(model)
    assert explainer.features(canvas(True, True)).shape == (1, 2, 16, 16) and explainer.layer == "act"
    protos = torch.cat([explainer.embed(canvas(True, False)), explainer.embed(canvas(False, True))])  # Eq. 7, 1 shot
    query = canvas(True, True)
    out = {c: explainer.explain(query, protos, target=c) for c in (0, 1)}
    top_left, bottom_right = (slice(0, 8), slice(0, 8)), (slice(8, 16), slice(8, 16))
    m0, m1 = out[0]["maps"][0], out[1]["maps"][0]
    assert float(m0[top_left].sum()) > 3 * float(m0[bottom_right].sum())      # "horizontal" prototype -> the bar
    assert float(m1[bottom_right].sum()) > 3 * float(m1[top_left].sum())      # "vertical" prototype -> the other
    # occluding the region the horizontal map highlights moves the query away from the horizontal prototype;
    # occluding the other region brings it closer
    box = heatmap_box(m0)
    occluded = query.clone()
    occluded[..., box[1]:box[3], box[0]:box[2]] = 0
    other = query.clone()
    other[..., 8:16, 8:16] = 0
    d = lambda x: float(torch.dist(explainer.embed(x)[0], protos[0]))  # noqa: E731
    assert d(occluded) > d(query) > d(other)
    assert box_iou(box, (1, 3, 7, 4)) > 0.3


def test_find_feature_layer_takes_the_last_spatial_output() -> None:
    net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Conv2d(3, 5, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    assert find_feature_layer(net, torch.rand(1, 1, 9, 9)) == "3"  # the pooled [B, 5, 1, 1] is still 4-D
    with pytest.raises(ConfigError):
        find_feature_layer(nn.Linear(3, 2), torch.rand(1, 3))


# --------------------------------------------------------------------------------------- the plugin


def test_placed_digits_boxes_hold_the_ink() -> None:
    data = placed_digits(20, "test", image_size=32, digit_size=12, clutter=0)
    for img, (x0, y0, x1, y1) in zip(data.images[:, 0], data.boxes.tolist()):
        inside = img[y0:y1, x0:x1]
        assert 0 <= x0 < x1 <= 32 and 0 <= y0 < y1 <= 32 and float(inside.max()) > 0.5
        outside = img.clone()
        outside[y0:y1, x0:x1] = 0
        assert float(outside.max()) <= 0.2 + 1e-6  # no ink outside the box without clutter (noise <= 0.1)


def test_paper_variant_sizes() -> None:
    """ResNet-50 without GAP and FC: 224x224 -> 2048 x 7 x 7; 1000 prototypes of 2048."""
    with torch.device("meta"):
        model = zoo.build("dist-cam-paper")
        q = model.features(torch.empty(1, 3, 224, 224))
    assert tuple(q.shape) == (1, 2048, 7, 7)
    assert tuple(model.prototypes.shape) == (1000, 2048)
    backbone = sum(p.numel() for p in model.backbone.parameters())
    assert backbone == 25_557_032 - (2048 * 1000 + 1000)  # ResNet-50 minus its FC


def test_trained_metric_model_localises_digits() -> None:
    model = zoo.build("dist-cam-tiny", seed=0, data_size=600, steps=150)
    train = zoo.make_data(model, "placed-digits", "train")
    zoo.train(model, train, seed=0, progress=False)
    test = placed_digits(200, "test", image_size=32, digit_size=12, clutter=3)  # the tiny variant's canvases
    metrics = zoo.evaluate(model, test)
    # the pointing game: the map's peak falls in the digit's box far more often than a random pixel would
    # (chance = the boxes' mean share of the canvas, ~0.1); 0.60 on 600 test canvases (seed 0)
    chance = float(((test.boxes[:, 2] - test.boxes[:, 0]) * (test.boxes[:, 3] - test.boxes[:, 1])).float().mean()) / 32**2
    assert metrics["accuracy"] > 0.6 and metrics["pointing"] > 3 * chance, (metrics, chance)
    assert 0.0 <= metrics["loc_error"] <= 1.0 and metrics["gt_loc_error"] <= metrics["loc_error"] + 1e-9
    out = zoo.infer(model, {"image": test.images[:3]}, target=2)
    assert out["maps"].shape == (3, 32, 32) and out["boxes"].shape == (3, 4) and out["target"].tolist() == [2] * 3
    with pytest.raises(InputError, match="target"):
        zoo.infer(model, {"image": test.images[:1]}, target=10)
