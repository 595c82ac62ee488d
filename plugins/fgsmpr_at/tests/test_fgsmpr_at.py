"""FGSMPR AT: Algorithm 1 recomputed by hand, the regulariser's mechanism, baselines, the paper's sizes and the
central claim at digits scale."""
from __future__ import annotations

from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import zoo
import zoo.testing
from zoo.options import TrainOptions
from zoo_plugins.fgsmpr_at.config import FGSMPRConfig, cifar, paper, tiny
from zoo_plugins.fgsmpr_at.losses import baseline_loss, fgsmpr_loss, logit_pairing
from zoo_plugins.fgsmpr_at.model import build


def test_conformance() -> None:
    zoo.testing.check_method("fgsmpr-at")


def small_net() -> nn.Module:
    """A sharply non-linear net (weights x3), so that FGSM and PGD-3 land on different points."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 3))
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(3)
    return net


def hand_fgsmpr(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, k: int, m: int,
                lam: float) -> torch.Tensor:
    """Algorithm 1 written out: x_fgsm = clip(x + eps sign(g)); PGD-K with alpha = eps/K from delta = 0 on the
    first m examples; loss = CE(f(x_fgsm), y) + lam/m sum ||f(x_fgsm_j) - f(x_pgd_j)||_2."""
    xr = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(F.cross_entropy(model(xr), y, reduction="sum"), xr)
    x_fgsm = (x + eps * g.sign()).clamp(0, 1)
    alpha, delta = eps / k, torch.zeros_like(x[:m])
    for _ in range(k):
        d = delta.clone().requires_grad_(True)
        (gd,) = torch.autograd.grad(F.cross_entropy(model((x[:m] + d).clamp(0, 1)), y[:m], reduction="sum"), d)
        delta = (delta + alpha * gd.sign()).clamp(-eps, eps)
        delta = (x[:m] + delta).clamp(0, 1) - x[:m]
    x_pgd = x[:m] + delta
    f_fgsm, f_pgd = model(x_fgsm), model(x_pgd)
    return F.cross_entropy(f_fgsm, y) + lam * (f_fgsm[:m] - f_pgd).norm(dim=1).sum() / m


@pytest.mark.parametrize("m", [1, 3])
def test_loss_is_algorithm_1(m: int) -> None:
    model = small_net()
    x = torch.rand(6, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    config = FGSMPRConfig(image_size=4, epsilon=0.3, pgd_steps=3, m=m, lam=0.7, pgd_pick="first", batch_size=6)
    loss, logs = fgsmpr_loss(model, x, y, config)
    want = hand_fgsmpr(model, x, y, 0.3, 3, m, 0.7)
    assert float(loss) == pytest.approx(float(want), rel=1e-6)
    assert logs["reg_loss"] == pytest.approx(float(want) - logs["fgsm_loss"], abs=1e-5)
    assert logs["reg_loss"] > 0.1


def test_random_pick_of_the_whole_batch_is_algorithm_1_with_m_equal_b() -> None:
    """With the random pick and m = B every example gets its PGD twin (in some order): the regulariser, a mean
    over rows, equals Algorithm 1 on the whole batch."""
    model = small_net()
    x = torch.rand(6, 1, 4, 4, generator=torch.Generator().manual_seed(3))
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    config = FGSMPRConfig(image_size=4, epsilon=0.3, pgd_steps=3, m=6, lam=0.7, pgd_pick="random", batch_size=6)
    torch.manual_seed(0)
    loss, _ = fgsmpr_loss(model, x, y, config)
    assert float(loss) == pytest.approx(float(hand_fgsmpr(model, x, y, 0.3, 3, 6, 0.7)), rel=1e-5)


def test_fgsm_step_alpha_option_uses_alpha() -> None:
    """Algorithm 1 line 4 writes the FGSM step as alpha: with fgsm_step='alpha' the FGSM image moves eps/K."""
    model = small_net()
    x = torch.full((2, 1, 4, 4), 0.5)
    y = torch.tensor([0, 1])
    config = FGSMPRConfig(image_size=4, epsilon=0.3, fgsm_step="alpha", batch_size=2, lam=0.0)
    from zoo_plugins.fgsmpr_at.losses import fgsm_example

    moved = (fgsm_example(model, x, y, config) - x).abs()
    assert torch.allclose(moved[moved > 0], torch.tensor(0.1))
    moved = (fgsm_example(model, x, y, replace(config, fgsm_step="epsilon")) - x).abs()
    assert torch.allclose(moved[moved > 0], torch.tensor(0.3))


def test_regulariser_gradient_flows_through_both_logits() -> None:
    """d reg / d theta involves f(x_fgsm) and f(x_pgd): with lambda > 0 the parameter gradient changes, and
    logit_pairing is the mean of row L2 norms."""
    a = torch.tensor([[3.0, 4.0], [0.0, 0.0]])
    assert float(logit_pairing(a, torch.zeros(2, 2))) == pytest.approx(2.5)
    model = small_net()
    x = torch.rand(4, 1, 4, 4, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 1, 2, 0])
    grads = []
    for lam in (0.0, 1.0):
        model.zero_grad()
        torch.manual_seed(0)
        fgsmpr_loss(model, x, y, FGSMPRConfig(image_size=4, lam=lam, batch_size=4))[0].backward()
        grads.append(model[1].weight.grad.clone())
    assert not torch.allclose(grads[0], grads[1])


def test_baselines() -> None:
    model = small_net()
    x = torch.rand(4, 1, 4, 4, generator=torch.Generator().manual_seed(2))
    y = torch.tensor([0, 1, 2, 0])
    standard, _ = baseline_loss(model, x, y, FGSMPRConfig(image_size=4, mode="standard", batch_size=4))
    assert float(standard) == pytest.approx(float(F.cross_entropy(model(x), y)))
    fgsm, _ = baseline_loss(model, x, y, FGSMPRConfig(image_size=4, mode="fgsm", batch_size=4, epsilon=0.1))
    import zoo.attacks as A

    assert float(fgsm) == pytest.approx(float(F.cross_entropy(model(A.fgsm(model, x, y, 0.1)), y)))


def test_paper_sizes() -> None:
    """MNIST: Wong et al.'s CNN has 166,406 parameters at 28x28 (conv 16@4x4/2, conv 32@4x4/2, FC 1568-100-10);
    CIFAR-10: PreAct ResNet-18 with the final BN has 11,172,170. Hyper-parameters of Sect. 4."""
    assert sum(p.numel() for p in build(paper()).parameters()) == 166_406
    with torch.device("meta"):
        net = build(cifar())
    assert sum(p.numel() for p in net.parameters()) == 11_172_170
    p, c = paper(), cifar()
    assert (p.epsilon, p.pgd_alpha, p.pgd_steps, p.m, p.lam, p.epochs) == (0.3, 0.1, 3, 1, 0.1, 50)
    assert (c.epsilon, c.pgd_alpha, c.pgd_steps, c.m, c.lam, c.epochs) == (8 / 255, 8 / 255 / 3, 3, 1, 0.5, 200)
    assert (p.eval_pgd_steps, p.eval_restarts, p.eval_alpha) == (40, 10, 0.1)
    assert (c.eval_pgd_steps, c.eval_restarts, c.eval_alpha) == (50, 10, 2 / 255)


def test_regulariser_closes_the_fgsm_pgd_logit_gap() -> None:
    """The mechanism FGSMPR targets (Sect. 3.1-3.2, Fig. 3): with the PGD regulariser the held-out gap
    ||f(x_fgsm) - f(x_pgd)|| is much smaller than with FGSM training alone (lambda = 0), same data, seed, steps
    (80 steps, PGD-10 on 150 held-out digits)."""
    from zoo_plugins.fgsmpr_at.data import make_data
    from zoo_plugins.fgsmpr_at.train import evaluate, train

    gaps = {}
    for lam in (0.0, 1.0):
        config = replace(tiny(), epsilon=0.2, lam=lam, m=16, steps=80, eval_pgd_steps=10, eval_alpha=0.05,
                         eval_restarts=1)
        model = zoo.build("fgsmpr-at-tiny", config=config, seed=0)
        train(model, make_data(config, "digits", "train"), config, TrainOptions(progress=False, seed=0))
        test = make_data(config, "digits", "test")
        held_out = type(test)(test.images[:150], test.labels[:150], "test")
        gaps[lam] = evaluate(model, held_out, config)["logit_gap"]
    assert gaps[1.0] < 0.5 * gaps[0.0], gaps   # measured 0.233 -> 0.017 (seed 0), 0.199 -> 0.014 (seed 1)
