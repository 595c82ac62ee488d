"""ICCE: the loss against the exponential integral, its gradient against Eq. 6, Theorem 1's bound, the noise
protocols, the paper's network sizes, and the central claim (robustness to 40 % uniform noise vs CE)."""
from __future__ import annotations

import math
from dataclasses import replace

import pytest
import scipy.special as sp
import torch
import torch.nn.functional as F

import zoo
import zoo.testing
from zoo.options import TrainOptions
from zoo_plugins.icce.config import paper, resnet44, tiny
from zoo_plugins.icce.data import make_data
from zoo_plugins.icce.losses import gce, icce, icce_per_sample, icce_weighted, mae
from zoo_plugins.icce.model import build
from zoo_plugins.icce.noise import corrupt_labels
from zoo_plugins.icce.train import evaluate, train


def test_conformance() -> None:
    zoo.testing.check_method("icce-loss")


def _logits() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(8, 5, generator=g, dtype=torch.float64) * 2, torch.tensor([0, 1, 2, 3, 4, 0, 1, 2])


@pytest.mark.parametrize("T", [0.5, 1.0, 4.0, 10.0])
def test_loss_value_is_the_exponential_integral(T: float) -> None:
    """Eq. 5: L = integral_p^1 e^{T(q - 0.5)} / q dq = e^{-T/2} (Ei(T) - Ei(T p))."""
    z, y = _logits()
    p = F.softmax(z, 1).gather(1, y[:, None]).squeeze(1)
    want = torch.tensor([math.exp(-T / 2) * (sp.expi(T) - sp.expi(T * v)) for v in p.tolist()], dtype=torch.float64)
    torch.testing.assert_close(icce_per_sample(z, y, T), want, rtol=1e-12, atol=1e-12)


def test_T_zero_is_cross_entropy() -> None:
    z, y = _logits()
    torch.testing.assert_close(icce(z, y, 0.0), F.cross_entropy(z, y))


def test_default_T_is_the_papers_4() -> None:
    """Sect. 4: T = 4 is the default of the per-sample loss (p_y = 1/2: e^{-2} (Ei(4) - Ei(2)), by scipy)."""
    z, y = torch.zeros(1, 2, dtype=torch.float64), torch.tensor([0])
    want = math.exp(-2.0) * (sp.expi(4.0) - sp.expi(2.0))
    assert float(icce_per_sample(z, y)) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("form", [icce, icce_weighted])
def test_gradient_is_equation_6(form) -> None:
    """dL/dz_j = e^{T (p_y - 0.5)} (p_j - [j = y]) per sample (batch mean: / B), for both forms."""
    z, y = _logits()
    z = z.clone().requires_grad_(True)
    form(z, y, 4.0).backward()
    p = F.softmax(z.detach(), 1)
    py = p.gather(1, y[:, None])
    want = torch.exp(4.0 * (py - 0.5)) * (p - F.one_hot(y, 5)) / z.shape[0]
    torch.testing.assert_close(z.grad, want, rtol=1e-9, atol=1e-12)


def test_theorem_1_bound() -> None:
    """For p in [eps, 1] and T >= 1: 0 <= L <= (1 - eps) max(e^{T(eps - 0.5)} / eps, e^{T/2})."""
    eps = 0.01
    p = torch.linspace(eps, 1.0, 500, dtype=torch.float64)
    z = torch.stack([torch.log(p), torch.log1p(-p + 1e-300)], 1)  # two classes: p(y=0) = p
    for T in (1.0, 2.0, 4.0):
        values = icce_per_sample(z, torch.zeros(500, dtype=torch.long), T)
        bound = (1 - eps) * max(math.exp(T * (eps - 0.5)) / eps, math.exp(T / 2))
        assert float(values.min()) >= 0.0 and float(values.max()) <= bound
    assert float(icce_per_sample(z[-1:], torch.zeros(1, dtype=torch.long), 4.0)) == pytest.approx(0.0, abs=1e-9)


def test_baselines_hand_values() -> None:
    z = torch.log(torch.tensor([[0.5, 0.25, 0.25]]))
    y = torch.tensor([0])
    assert float(mae(z, y)) == pytest.approx(1.0)  # 2 (1 - 0.5)
    assert float(gce(z, y, 0.7)) == pytest.approx((1 - 0.5**0.7) / 0.7)


def test_noise_protocols() -> None:
    labels = torch.arange(10).repeat(400)
    uni = corrupt_labels(labels, 10, 0.4, "uniform", seed=1)
    flipped = uni != labels
    assert abs(float(flipped.float().mean()) - 0.4) < 0.03
    counts = torch.bincount(((uni - labels) % 10)[flipped], minlength=10)
    assert counts[0] == 0 and int(counts[1:].min()) > 0.7 * int(counts[1:].max())  # any other class, uniformly
    cls = corrupt_labels(labels, 10, 0.3, "class", seed=1)
    changed = cls != labels
    assert torch.equal(cls[changed], (labels[changed] + 1) % 10)
    assert torch.equal(corrupt_labels(labels, 10, 0.3, "class", seed=1), cls)


def test_paper_network_sizes() -> None:
    """Keras' CIFAR ResNet v1: ResNet-56 has 857,706 trainable parameters (861,770 with the batch-norm moving
    statistics that Keras counts, its "0.85M"), ResNet-44 662,826 (Keras' "0.66M")."""
    for config, trainable in ((paper(), 857_706), (resnet44(), 662_826)):
        with torch.device("meta"):
            net = build(config)
        assert sum(p.numel() for p in net.parameters()) == trainable
        bn = sum(b.numel() for n, b in net.named_buffers() if n.endswith(("running_mean", "running_var")))
        assert trainable + bn == {857_706: 861_770, 662_826: 665_994}[trainable]
    assert paper().T == 4.0 and paper().depth == 56


def test_icce_resists_uniform_label_noise_better_than_ce() -> None:
    """Digits, 40 % uniform noise, same network/seed/recipe: CE memorises the noise, ICCE much less."""
    accs = {}
    for loss in ("ce", "icce"):
        config = replace(tiny(), loss=loss)
        model = zoo.build("icce-loss-tiny", config=config, seed=0)
        data = make_data(config, "digits", "train")
        assert 0.35 < float((data.labels != data.clean_labels).float().mean()) < 0.45
        train(model, data, config, TrainOptions(progress=False, seed=0))
        accs[loss] = evaluate(model, make_data(config, "digits", "test"))["accuracy"]
    assert accs["icce"] > 0.9 and accs["icce"] > accs["ce"] + 0.05, accs
