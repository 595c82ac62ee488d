"""PRAO: the paper's random erasure and edge weight matrix, the e-GAN's losses, pose-guided pooling, the
confidence-weighted loss and the distance measure, the paper's sizes, conformance, and CMC/mAP (slow)."""
from __future__ import annotations

from dataclasses import replace

import pytest
import torch

import zoo
import zoo.testing
from zoo_plugins.prao.config import paper, tiny
from zoo_plugins.prao.model import DCFE, keypoint_heatmaps, pose_pooling
from zoo_plugins.prao.repair import Generator, edge_weights, generator_loss, random_erasure
from zoo_plugins.prao.train import dcfe_loss

NAME = "prao-occluded-re-id"


def test_conformance() -> None:
    zoo.testing.check_method(NAME)


def test_random_erasure_fits_the_image_as_the_paper_draws_it() -> None:
    g = torch.Generator().manual_seed(0)
    for _ in range(200):
        xm, ym, wm, hm = random_erasure((64, 32), g)
        assert xm + wm <= 32 and ym + hm <= 64 and wm >= 1 and hm >= 1


def test_edge_weight_matrix_by_hand() -> None:
    w = edge_weights((5, 6), (2, 1, 2, 2), decay=0.9)  # rectangle x 2..3, y 1..2
    assert w[1:3, 2:4].abs().sum() == 0  # zero inside the erased area
    assert w[0, 2].item() == pytest.approx(0.9) and w[0, 1].item() == pytest.approx(0.81)  # mu = 1 and mu = 2
    assert w[4, 5].item() == pytest.approx(0.9 ** 4) and w[2, 0].item() == pytest.approx(0.81)


def test_generator_keeps_the_visible_pixels_and_its_loss_weighs_the_edge() -> None:
    torch.manual_seed(0)
    gen = Generator(8)
    image, mask = torch.rand(2, 3, 16, 8), torch.zeros(2, 1, 16, 8)
    mask[:, :, 4:8, 2:5] = 1
    out = gen(image, mask)
    torch.testing.assert_close(out * (1 - mask), image * (1 - mask))
    assert not torch.allclose(out * mask, image * mask)
    real, fake = torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4)
    fake[0, :, 0, 0] = 1.0  # an error of 1 at one pixel outside the mask, whose edge weight is 0.5
    m, weights = torch.zeros(1, 1, 4, 4), torch.zeros(1, 4, 4)
    weights[0, 0, 0], weights[0, 3, 3] = 0.5, 0.5
    logits = torch.zeros(1, 1, 2, 2)  # D(G(m)) = 0.5: adversarial term log 2
    loss = generator_loss(logits, fake, real, m, weights, reconstruction=10.0)
    assert loss.item() == pytest.approx(torch.log(torch.tensor(2.0)).item() + 10.0 * (0.5 * 1.0) / 1.0, rel=1e-5)


def test_pose_guided_pooling_and_heatmaps_by_hand() -> None:
    features = torch.arange(3 * 2 * 4, dtype=torch.float32).reshape(1, 3, 2, 4)  # C = 3, h = 2, w = 4
    heatmaps = torch.zeros(1, 1, 2, 4)
    heatmaps[0, 0, 1, 2] = 1.0
    pooled = pose_pooling(features, heatmaps)
    torch.testing.assert_close(pooled, features[:, :, 1, 2][:, None] / 8)  # GAP over 2 x 4 positions
    maps = keypoint_heatmaps(torch.tensor([[[0.75, 0.375], [0.1, 0.1]]]), torch.tensor([[1.0, 0.0]]), (4, 2), 1.0)
    assert maps[0, 0, 1, 1].item() == pytest.approx(1.0)  # the centre of cell (row 1, column 1)
    assert maps[0, 0, 0, 1].item() == pytest.approx(torch.exp(torch.tensor(-0.5)).item())  # one cell away
    assert maps[0, 1].abs().sum() == 0  # a hidden keypoint has no heatmap


def test_keypoint_confidence_weights_the_identity_and_triplet_losses() -> None:
    torch.manual_seed(0)
    model = DCFE(tiny())
    data = zoo.make_data(f"{NAME}-tiny", "synthetic", "train")
    idx = torch.tensor([0, 1, 2, 3, 8, 9, 10, 11])
    batch = {"image": data.images[idx], "pid": data.pids[idx], "keypoints": data.keypoints[idx],
             "visible": data.visible[idx]}
    loss, logs = dcfe_loss(model, batch)
    assert logs["main"] > 0 and torch.isfinite(loss)
    torch.nn.init.constant_(model.pose[-1].bias, -30.0)  # a pose head that sees no keypoint: confidence ~ 0
    torch.nn.init.zeros_(model.pose[-1].weight)
    _, silent = dcfe_loss(model, batch)
    assert silent["main"] < 1e-6 and silent["distance"] > 0  # only the distance loss and the pose loss remain
    local = torch.randn(3, 17, model.channels)
    d = model.measure(local, local.flip(0))
    assert ((d > 0) & (d < 1)).all()
    torch.testing.assert_close(d, model.measure(local.flip(0), local))  # |F_l1 - F_l2|: symmetric channels
    by_hand = torch.sigmoid(model.distance.weight[0] @ (local[0] - local[2]).abs().flatten() + model.distance.bias[0])
    torch.testing.assert_close(d[0], by_hand)  # Eq. 4: sigmoid(f(|F_l1 - F_l2|))
    same = model.measure(local, local)  # identical features: only the bias is left
    torch.testing.assert_close(same, torch.sigmoid(model.distance.bias).expand(3))


def test_paper_sizes() -> None:
    cfg = replace(paper(), pretrained=False)
    with torch.device("meta"):
        model = DCFE(cfg)
        out = model(torch.empty(2, 3, 256, 128))
    assert out["heatmaps"].shape == (2, 17, 16, 8) and out["local"].shape == (2, 17, 2048)  # last stride removed
    assert model.distance.in_features == 17 * 2048 and model.classifier.out_features == 702
    assert (cfg.lr, cfg.betas, cfg.batch_size, cfg.edge_decay) == (3.5e-4, (0.5, 0.999), 64, 0.9)


@pytest.mark.slow
def test_occluded_queries_are_found_after_training() -> None:
    torch.manual_seed(0)
    model = zoo.build(f"{NAME}-tiny", seed=0)
    # seed 0: mAP 0.45 / 0.53 and CMC@10 0.83 / 0.92 after 120 / 200 steps
    zoo.train(model, zoo.make_data(model, "synthetic", "train"), steps=150, progress=False)
    report = zoo.evaluate(model, zoo.make_data(model, "synthetic", "test"), ranking="feature")
    assert report["mAP"] > 0.35 and report["cmc@10"] > 0.7  # 12 identities: chance mAP ~ 0.1
