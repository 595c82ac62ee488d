"""Objectness regularisation: the transform of Eq. 4-7 by hand, where it sits (before post-processing, eval only,
training untouched), the patch placement and budget, the vanishing rate and AP by hand, and the paper's
configuration."""
from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

import zoo
import zoo.testing
from zoo_plugins.objectness_reg.attack import patch_mask, step_size, vanishing_attack
from zoo_plugins.objectness_reg.config import ORConfig, paper, tiny
from zoo_plugins.objectness_reg.data import collate, make_data, scene
from zoo_plugins.objectness_reg.metrics import average_precision, matched, vanishing_rate
from zoo_plugins.objectness_reg.model import ObjectnessRegularization


def test_conformance() -> None:
    zoo.testing.check_method("objectness-regularization")


def test_r_and_b_hand_values() -> None:
    """r = 1/(4 tau (1 - tau)), b = ln(tau/(1 - tau)) - eps: tau 0.5 -> r 1, b -eps; tau 0.3 -> r 1/0.84."""
    assert (ORConfig(tau=0.5, eps=0.01).r, ORConfig(tau=0.5, eps=0.01).b) == pytest.approx((1.0, -0.01))
    c = ORConfig(tau=0.3, eps=0.05)
    assert c.r == pytest.approx(1 / 0.84) and c.b == pytest.approx(math.log(0.3 / 0.7) - 0.05)


def test_regularised_objectness_properties() -> None:
    """f' = r S(f) + b: values in (b, b + r), order preserved, every probability S(f') >= S(b) (just under tau),
    and the lowest raw logits are lifted the most."""
    reg = ObjectnessRegularization(1.0, -0.01)
    f = torch.tensor([-20.0, -5.0, -4.0, 0.0, 3.0])
    out = reg(f)
    torch.testing.assert_close(out, torch.sigmoid(f) - 0.01)
    assert bool((out[1:] > out[:-1]).all())
    assert float(torch.sigmoid(out).min()) >= float(torch.sigmoid(torch.tensor(-0.01))) - 1e-6
    assert float(torch.sigmoid(out).min()) < 0.5
    assert float(torch.sigmoid(torch.tensor(math.log(0.01 / 0.99))).item()) == pytest.approx(0.01)
    passes = torch.sigmoid(reg(torch.tensor([-4.5, -4.7]))) > 0.5  # f' > 0 iff S(f) > eps
    assert passes.tolist() == [True, False]
    # tau 0.3 (r = 1/0.84 != 1): f = 0 -> r/2 + b, f = ln 3 (S = 3/4) -> 3r/4 + b, by hand
    c = ORConfig(tau=0.3, eps=0.05)
    out = ObjectnessRegularization(c.r, c.b)(torch.tensor([0.0, math.log(3.0)]))
    want = torch.tensor([0.5 / 0.84, 0.75 / 0.84]) + math.log(0.3 / 0.7) - 0.05
    torch.testing.assert_close(out, want)


def test_defence_acts_only_at_inference_before_post_processing() -> None:
    model = zoo.build("objectness-regularization-tiny", seed=0)
    images, targets = collate([scene(model.config, i) for i in range(2)])
    model.train()
    torch.manual_seed(0)
    plain = model(images, targets)
    with model.defended():
        torch.manual_seed(0)
        defended = model(images, targets)
    assert all(torch.equal(plain[k], defended[k]) for k in plain)  # training losses untouched
    model.eval()
    with torch.no_grad():
        raw = model.objectness(images)
        with model.defended():
            reg = model.objectness(images)
            found = model(images)
    c = model.config
    torch.testing.assert_close(torch.logit(reg.double()), (c.r * raw + c.b).double(), rtol=1e-4, atol=1e-4)
    # post-processing keeps scores >= tau: with the defence, scores come from the regularised logits
    assert all(bool((d["scores"] >= c.tau).all()) for d in found)


def test_patch_mask_budget_and_placement() -> None:
    boxes = torch.tensor([[10.0, 10.0, 30.0, 30.0], [40.0, 0.0, 60.0, 20.0]])
    mask = patch_mask(boxes, 64, 100)
    assert int(mask.sum()) == 2 * 7 * 7  # round(sqrt(100 / 2)) = 7 per object
    ys, xs = torch.nonzero(mask[0, :, :32], as_tuple=True)
    # pixel indices 10..29 of the box: centre 19.5
    assert (float(ys.float().mean()), float(xs.float().mean())) == pytest.approx((19.5, 19.5), abs=0.6)
    assert int(patch_mask(torch.zeros(0, 4), 64, 100).sum()) == 0
    assert int(patch_mask(boxes[:1], 64, 1).sum()) == 1  # a one-pixel budget gives a one-pixel patch


def test_step_schedules() -> None:
    decay = step_size(tiny())
    assert [decay(t) * 255 for t in (0, 30, 90, 190)] == pytest.approx([8, 4, 2, 1])
    assert step_size(replace(tiny(), step_schedule="fixed")) == pytest.approx(1 / 255)


def test_vanishing_rate_and_ap_by_hand() -> None:
    clean = [torch.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]]), torch.tensor([[0.0, 0.0, 4.0, 4.0]])]
    after = [torch.tensor([[1.0, 0.0, 11.0, 10.0]]), torch.zeros(0, 4)]  # IoU 9/11 >= 0.5 for the first only
    assert matched(clean[0], after[0]) == 1
    assert vanishing_rate(clean, after) == pytest.approx(1 - 1 / 3)
    preds = [{"boxes": torch.tensor([[0.0, 0.0, 10.0, 10.0], [50.0, 50.0, 60.0, 60.0]]),
              "scores": torch.tensor([0.9, 0.8])}]
    targets = [{"boxes": torch.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]])}]
    assert average_precision(preds, targets) == pytest.approx(0.5)  # recall 0.5 at precision 1


def test_attack_changes_only_patch_pixels_and_lowers_objectness() -> None:
    config = replace(tiny(), attack_steps=5)
    model = zoo.build("objectness-regularization-tiny", config=config, seed=0).eval()
    with torch.no_grad():  # an untrained head predicts the prior everywhere: give it image-dependent scores
        model.net.head.inner.classification_head.cls_logits.weight.normal_(0, 0.3)
    images = torch.stack([scene(config, i)[0] for i in range(2)])
    boxes = [scene(config, i)[1]["boxes"] for i in range(2)]
    adv = vanishing_attack(model, images, boxes, config)
    mask = torch.stack([patch_mask(b, 64, config.patch_pixels) for b in boxes]).expand_as(images)
    assert torch.equal(adv[~mask], images[~mask])
    with torch.no_grad():
        before = model.objectness(images).max(1).values
        after = model.objectness(adv).max(1).values
    assert bool((after < before).all())


def test_paper_configuration() -> None:
    """tau 0.5, eps 0.01 (YOLOv3), 3500-pixel patches, 255 iterations with 8/255 halved at 30/90/190, 416x416."""
    c = paper()
    assert (c.tau, c.eps, c.patch_pixels, c.attack_steps, c.step_schedule, c.image_size) == (
        0.5, 0.01, 3500, 255, "decay", 416)
    assert (c.r, c.b) == pytest.approx((1.0, -0.01))
    with torch.device("meta"):
        net = zoo.build("objectness-regularization-paper")
    # torchvision's RetinaNet R50-FPN (91 classes) lists 34,014,999 with a frozen-BN pretrained backbone; from
    # scratch the backbone's batch norms train too (+53,120 affine parameters)
    assert sum(p.numel() for p in net.parameters()) == 34_014_999 + 53_120


def test_synthetic_scenes() -> None:
    config = tiny()
    image, target = scene(config, 5)
    assert image.shape == (3, 64, 64) and 0 <= float(image.min()) <= float(image.max()) <= 1
    assert 1 <= target["boxes"].shape[0] <= 3 and torch.equal(scene(config, 5)[0], image)
    assert len(make_data(config, "synthetic", "test")) == 128
