"""Gabor texture branch: constrained parameters, filters by hand, orientation selectivity, statistics, region
gate and zoom, the paper-sized layout, conformance, and the texture branch's gain on a texture-defined task."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

import zoo
import zoo.testing
from zoo_plugins.gabor_texture.config import paper, tiny
from zoo_plugins.gabor_texture.gabor import GaborBank, response_statistics, sigma_from_bandwidth
from zoo_plugins.gabor_texture.model import GaborTextureNet, crop, proposals

NAME = "gabor-texture-features-for-fine-grained-recognition"


def _bank(**kw: object) -> GaborBank:
    cfg = replace(tiny(), **kw)
    return GaborBank(cfg.orientations, cfg.scales, cfg.kernel_size, cfg.wavelength, cfg.bandwidth, cfg.aspect,
                     cfg.phase)


def test_conformance() -> None:
    zoo.testing.check_method(NAME)


def test_orientation_is_its_slot_plus_a_bounded_offset() -> None:
    bank = _bank()
    bank.raw_theta.data.fill_(2.0)
    step = math.pi / bank.orientations
    expected = bank.slot + step * (torch.sigmoid(torch.tensor(2.0)) - 0.5)  # theta_k = slot + step (sigma(r) - 1/2)
    torch.testing.assert_close(bank.parameters_in_range()["theta"], expected)


def test_parameters_cannot_leave_their_ranges() -> None:
    bank = _bank()
    optimizer = torch.optim.SGD(bank.parameters(), lr=1e4)
    for _ in range(5):  # huge steps that push every parameter up, then down
        for sign in (1.0, -1.0):
            optimizer.zero_grad()
            (sign * sum(v.sum() for v in bank.parameters_in_range().values())).backward()
            optimizer.step()
            p = bank.parameters_in_range()
            cfg = tiny()
            for name, (lo, hi) in (("wavelength", cfg.wavelength), ("bandwidth", cfg.bandwidth),
                                   ("aspect", cfg.aspect), ("phase", cfg.phase)):
                assert ((p[name] >= lo) & (p[name] <= hi)).all(), name
            step = math.pi / cfg.orientations
            assert ((p["theta"] - bank.slot).abs() <= step / 2 + 1e-6).all()
            torch.testing.assert_close(p["sigma"], sigma_from_bandwidth(p["wavelength"], p["bandwidth"]))
    assert torch.isfinite(bank.kernels()).all()
    cfg = tiny()
    for raw, end in ((-50.0, 0), (50.0, 1)):  # the whole range is reachable, and nothing beyond it
        for name in ("raw_wavelength", "raw_bandwidth", "raw_aspect", "raw_phase"):
            getattr(bank, name).data.fill_(raw)
        p = bank.parameters_in_range()
        for name, bounds in (("wavelength", cfg.wavelength), ("bandwidth", cfg.bandwidth),
                             ("aspect", cfg.aspect), ("phase", cfg.phase)):
            torch.testing.assert_close(p[name], torch.full_like(p[name], bounds[end]))


def test_kernel_and_sigma_by_hand() -> None:
    assert sigma_from_bandwidth(torch.tensor(4.0), torch.tensor(2.0)).item() == pytest.approx(
        4 / math.pi * math.sqrt(math.log(2) / 2) * 5.0 / 3.0)  # (2^b + 1) / (2^b - 1) at b = 2
    bank = _bank(orientations=1, scales=1, kernel_size=5)
    p = bank.parameters_in_range()
    lam, sig, gam, psi, th = (p[k].item() for k in ("wavelength", "sigma", "aspect", "phase", "theta"))
    ax = np.arange(-2, 3, dtype=np.float64)
    yy, xx = np.meshgrid(ax, ax, indexing="ij")
    xr, yr = xx * math.cos(th) + yy * math.sin(th), -xx * math.sin(th) + yy * math.cos(th)
    g = np.exp(-(xr ** 2 + gam ** 2 * yr ** 2) / (2 * sig ** 2)) * np.cos(2 * math.pi * xr / lam + psi)
    g = g - g.mean()
    np.testing.assert_allclose(bank.kernels()[0, 0].detach().numpy(), g / np.linalg.norm(g), rtol=1e-4, atol=1e-6)


def test_filters_answer_their_own_orientation() -> None:
    bank = _bank(orientations=4, scales=1, kernel_size=9, wavelength=(4.0, 4.0 + 1e-3))
    yy, xx = torch.meshgrid(torch.arange(24.0), torch.arange(24.0), indexing="ij")
    energy = []
    for k in range(4):
        angle = k * math.pi / 4
        grating = torch.cos(2 * math.pi / 4.0 * (xx * math.cos(angle) + yy * math.sin(angle)))
        response = bank(grating.expand(1, 3, 24, 24))[0, :, 6:-6, 6:-6]
        energy.append(response.pow(2).mean(dim=(-2, -1)))
    assert torch.stack(energy).argmax(1).tolist() == [0, 1, 2, 3]


def test_statistics_gate_and_zoom() -> None:
    r = torch.tensor([[[[1.0, -3.0], [2.0, 0.0]]]])
    stats = response_statistics(r)
    assert stats.tolist()[0] == pytest.approx([1.5, float(torch.tensor([1.0, -3.0, 2.0, 0.0]).std()), 3.0])
    assert proposals((1, 2)).tolist()[:2] == [[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.5, 0.5]]
    image = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    zoomed = crop(image, torch.tensor([[[0.0, 0.0, 0.5, 0.5], [0.5, 0.5, 1.0, 1.0]]] * 2), 4)
    torch.testing.assert_close(zoomed[0], image[0, :, :4, :4])  # the top-left quadrant, at its own resolution
    torch.testing.assert_close(zoomed[3], image[1, :, 4:, 4:])
    torch.manual_seed(0)
    model = GaborTextureNet(tiny()).eval()
    with torch.no_grad():
        out = model(torch.rand(3, 3, 32, 32))
    assert out["selected"].shape == (3, 2) and out["texture"].shape == (3, 2, model.fc.in_features)
    assert torch.equal(out["selected"], out["scores"].topk(2, dim=1).indices)  # the qualified regions
    assert out["scores"].shape == (3, 5)


def test_paper_layout_sizes() -> None:
    cfg = replace(paper(), pretrained=False)
    with torch.device("meta"):
        model = GaborTextureNet(cfg)
    assert model.gabor.kernels().shape == (32, 1, 15, 15)  # 4 scales x 8 orientations
    assert model.boxes.shape == (1 + 4 + 9, 4) and model.fc.in_features == 2048
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(model.gabor) == 5 * 32  # theta, wavelength, bandwidth, aspect, phase per filter
    assert count(model) - count(model.backbone) == (2048 * 200 + 200) + (2048 + 1) + 5 * 32 + (2 * 96) + (
        96 * 2048 + 2048) + (2048 * 2048 + 2048)


@pytest.mark.slow
def test_texture_branch_adds_accuracy_on_texture_defined_classes() -> None:
    scores = {}
    for variant in ("tiny", "cnn"):
        torch.manual_seed(0)
        model = zoo.build(f"{NAME}-{variant}", seed=0)
        zoo.train(model, zoo.make_data(model, "synthetic", "train"), steps=150, progress=False)
        scores[variant] = zoo.evaluate(model, zoo.make_data(model, "synthetic", "test"))["top1"]
    assert scores["tiny"] > scores["cnn"] + 0.02
