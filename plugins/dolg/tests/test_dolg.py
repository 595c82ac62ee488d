"""DOLG: orthogonal fusion, the local branch's structure, the paper's sizes, conformance, a short training run."""
from __future__ import annotations

from dataclasses import replace

import pytest
import torch

import zoo
import zoo.testing
from zoo_plugins.dolg.config import code, gem, paper, tiny
from zoo_plugins.dolg.model import DOLG, MultiAtrous, orthogonal_component


def test_conformance() -> None:
    zoo.testing.check_method("dolg")


def test_orthogonal_component_by_hand_and_orthogonal_to_the_global_vector() -> None:
    local = torch.tensor([[1.0, 1.0], [2.0, -3.0]]).T.reshape(1, 2, 1, 2)  # two positions: (1, 1), (2, -3)
    g = torch.tensor([[2.0, 0.0]])
    orth = orthogonal_component(local, g)  # minus the projections (1, 0) and (2, 0)
    torch.testing.assert_close(orth[0, :, 0], torch.tensor([[0.0, 0.0], [1.0, -3.0]]))
    torch.manual_seed(0)
    model = DOLG(tiny()).eval()
    with torch.no_grad():
        f = model.features(torch.rand(3, 3, 64, 64))
    dots = torch.einsum("bchw,bc->bhw", f["orthogonal"], f["global"])
    scale = f["orthogonal"].norm(dim=1) * f["global"].norm(dim=1)[:, None, None]
    assert (dots.abs() / scale).max() < 1e-5  # every orthogonal local vector is orthogonal to f_g
    pooled = f["orthogonal"].mean(dim=(-2, -1))
    assert ((pooled * f["global"]).sum(1).abs() / (pooled.norm(dim=1) * f["global"].norm(dim=1))).max() < 1e-5
    assert not torch.allclose(f["orthogonal"], f["local"])  # the projection removed something
    torch.testing.assert_close(orthogonal_component(local, torch.zeros(1, 2)), local)  # no global: nothing to remove


def test_descriptor_ignores_local_information_along_the_global_vector() -> None:
    torch.manual_seed(1)
    model = DOLG(tiny()).eval()
    local, g = torch.randn(2, 64, 4, 4), torch.randn(2, 64)
    base = model.fuse(orthogonal_component(local, g), g)
    along = model.fuse(orthogonal_component(local + 3.0 * g[:, :, None, None], g), g)
    across = model.fuse(orthogonal_component(local + 3.0 * torch.randn(2, 64, 1, 1), g), g)
    torch.testing.assert_close(along, base, rtol=1e-4, atol=1e-5)  # redundant with f_g: removed
    orth = orthogonal_component(local, g)  # fusion: [f_g ; average-pooled f_orth] through the FC
    torch.testing.assert_close(base, model.fc(torch.cat([g, orth.mean(dim=(-2, -1))], dim=1)))
    assert (across - base).abs().max() > 1e-2  # complementary information reaches the descriptor


def test_multi_atrous_block_and_variants() -> None:
    block = MultiAtrous(8, 4, 16, (1, 2, 3))
    assert [b.dilation[0] for b in block.branches] == [1, 1, 2, 3] and block.project.in_channels == 5 * 4
    x = torch.rand(2, 8, 5, 5)
    assert block(x).shape == (2, 16, 5, 5)
    pooled = torch.relu(block.image_pool(x.mean(dim=(-2, -1), keepdim=True))).expand(-1, -1, 5, 5)
    by_hand = torch.relu(block.project(torch.cat([b(x) for b in block.branches] + [pooled], dim=1)))
    torch.testing.assert_close(block(x), by_hand)  # the image-pooling branch is the map's average
    plain = DOLG(gem())
    assert not hasattr(plain, "attention") and plain.descriptor(torch.rand(1, 3, 64, 64)).shape == (1, 32)
    model = DOLG(tiny())
    assert isinstance(model.multi_atrous, MultiAtrous)
    assert DOLG(replace(tiny(), multi_atrous=False)).multi_atrous is None


def test_paper_configuration_sizes() -> None:
    cfg = replace(paper(), pretrained=False)  # sizes only: nothing is downloaded
    assert (cfg.dim, cfg.local_dim, cfg.aspp_dim, cfg.dilations, cfg.num_classes) == (512, 1024, 512, (6, 12, 18),
                                                                                        81313)
    assert (cfg.arcface_scale, cfg.arcface_margin, cfg.gem_p, cfg.lr, cfg.batch_size) == (30.0, 0.15, 3.0, 0.01, 64)
    with torch.device("meta"):
        model = DOLG(cfg)
        descriptor = model.features(torch.empty(2, 3, 224, 224))["descriptor"]
    assert descriptor.shape == (2, 512)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(model.backbone) == 42_500_160  # timm ResNet-101 up to res5
    aspp = 1024 * 512 + 512 + 3 * (1024 * 512 * 9 + 512) + 1024 * 512 + 512 + 5 * 512 * 1024 + 1024
    attention = 1024 * 1024 + 1024 + 2 * 1024 + 1024 + 1
    fusion = 2048 * 1024 + 1024 + 2048 * 512 + 512
    assert count(model.multi_atrous) == aspp and count(model.attention) == attention
    assert count(model) - count(model.head) == 42_500_160 + aspp + attention + fusion == 64_529_473
    assert count(model.head) == 81313 * 512
    with torch.device("meta"):
        public = DOLG(replace(code(), pretrained=False))
    assert public.multi_atrous is None and public.head.curricular


@pytest.mark.slow
def test_training_separates_unseen_landmarks() -> None:
    torch.manual_seed(0)
    model = zoo.build("dolg-tiny", seed=0)
    bench = zoo.make_data(model, "synthetic", "test")
    before = zoo.evaluate(model, bench)
    zoo.train(model, zoo.make_data(model, "synthetic", "train"), steps=40, progress=False)
    after = zoo.evaluate(model, bench)
    assert after["mAP_medium"] > before["mAP_medium"] + 0.15
