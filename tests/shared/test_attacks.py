"""zoo.attacks against hand computations and the attacks' definitions.

A "model" may be any callable; with ``nn.Flatten`` as the model and a custom objective ``loss(z, y)``, an attack
maximises a known function of the pixels, so each iterate can be computed by hand.
"""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import zoo.attacks as A
from zoo.attacks.norms import clip_eps, lp_norm, project
from zoo.errors import ConfigError

IDENTITY = nn.Flatten()


def concave(c: float):
    """Objective ``-(x - c)^2`` summed over pixels: its ascent direction is ``sign(c - x)``."""
    return lambda z, y: -((z - c) ** 2).sum(1)


def linear_model(w: torch.Tensor) -> nn.Module:
    """Two-class linear model with logits ``[w . x, 0]``."""
    model = nn.Linear(w.numel(), 2, bias=False)
    with torch.no_grad():
        model.weight.zero_()
        model.weight[0] = w
    return nn.Sequential(nn.Flatten(), model)


# ------------------------------------------------------------------------------------------------ geometry


def test_projection_hand_values() -> None:
    delta = torch.tensor([[3.0, 4.0], [0.3, -0.4]])
    assert torch.allclose(project(delta, 1.0, "l2"), torch.tensor([[0.6, 0.8], [0.3, -0.4]]))
    assert torch.allclose(project(delta, 0.5, "linf"), torch.tensor([[0.5, 0.5], [0.3, -0.4]]))
    per = project(delta, torch.tensor([1.0, 0.1]), "linf")  # per-sample budgets
    assert torch.allclose(per, torch.tensor([[1.0, 1.0], [0.1, -0.1]]))


def test_clip_eps_is_the_ifgsm_clip() -> None:
    """Clip^eps_x{x'} = min{1, x + eps, max{0, x - eps, x'}} (Eq. 3 of MAI-FGPLM)."""
    x = torch.tensor([[0.05, 0.5, 0.98]])
    x_adv = torch.tensor([[-0.3, 0.9, 1.5]])
    want = torch.minimum(torch.minimum(torch.ones(3), x + 0.1), torch.maximum(torch.maximum(torch.zeros(3), x - 0.1), x_adv))
    assert torch.allclose(clip_eps(x_adv, x, 0.1), want)


def test_random_start_inside_the_ball() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(64, 3, 4, 4)
    assert float(lp_norm(A.random_start(x, 0.2, "linf", g), "linf").max()) <= 0.2
    d = A.random_start(x, 0.5, "l2", g)
    assert float(lp_norm(d, "l2").max()) <= 0.5 + 1e-6 and float(lp_norm(d, "l2").min()) > 0


def test_cw_margin_hand_value() -> None:
    logits = torch.tensor([[2.0, 5.0, 1.0], [0.0, -1.0, 3.0]])
    assert A.cw_margin(logits, torch.tensor([1, 2])).tolist() == pytest.approx([2.0 - 5.0, 0.0 - 3.0])


# ------------------------------------------------------------------------------------------------ FGSM / PGD


def test_fgsm_linear_model_hand_value() -> None:
    """For logits [w.x, 0] and label 0, dJ/dx = -(1 - p0) w, so FGSM moves every pixel by -eps sign(w)."""
    w = torch.tensor([1.0, -2.0, 0.5, -0.1])
    x = torch.full((1, 4), 0.5)
    got = A.fgsm(linear_model(w), x, torch.tensor([0]), 0.1)
    assert torch.allclose(got, x - 0.1 * w.sign())
    clipped = A.fgsm(linear_model(w), torch.tensor([[0.05, 0.95, 0.5, 0.5]]), torch.tensor([0]), 0.1)
    assert torch.allclose(clipped, torch.tensor([[0.0, 1.0, 0.4, 0.6]]))  # clamped into [0, 1]


def test_fgsm_l2_and_random_start() -> None:
    w = torch.tensor([3.0, -4.0])
    x = torch.full((1, 2), 0.5)
    got = A.fgsm(linear_model(w), x, torch.tensor([0]), 0.1, norm="l2")
    assert torch.allclose(got, x - 0.1 * w / 5.0)
    g = torch.Generator().manual_seed(0)
    fast = A.fgsm(linear_model(w), x.expand(32, 2), torch.zeros(32, dtype=torch.long), 0.1, alpha=0.2,
                  rand_init=True, generator=g)
    assert torch.allclose(fast, x - 0.1 * w.sign())  # from any start in the ball, one 2-eps step reaches the corner
    fast = A.fgsm(linear_model(w), x.expand(32, 2), torch.zeros(32, dtype=torch.long), 0.1, alpha=0.125,
                  rand_init=True, generator=g)
    assert float((fast - x).abs().max()) <= 0.1 + 1e-6 and not torch.allclose(fast, x - 0.1 * w.sign())


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_pgd_converges_to_the_optimal_linear_attack(norm: str) -> None:
    """On a linear model the worst case in the ball is x - eps sign(w) (L-inf) or x - eps w/||w|| (L2)."""
    w = torch.tensor([1.0, -2.0, 0.5, -0.3])
    x = torch.full((2, 4), 0.5)
    got = A.pgd(linear_model(w), x, torch.tensor([0, 0]), 0.2, 0.05, 20, norm=norm, rand_init=norm == "linf",
                generator=torch.Generator().manual_seed(0))
    want = x - 0.2 * (w.sign() if norm == "linf" else w / w.norm())
    assert torch.allclose(got, want, atol=1e-5)


def test_pgd_stays_in_ball_and_domain() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(48, 16), nn.ReLU(), nn.Linear(16, 5))
    x = torch.rand(8, 3, 4, 4)
    y = torch.randint(0, 5, (8,))
    for norm, eps in (("linf", 8 / 255), ("l2", 0.5)):
        adv = A.pgd(model, x, y, eps, eps / 4, 10, norm=norm)
        assert float(lp_norm(adv - x, norm).max()) <= eps + 1e-6
        assert float(adv.min()) >= 0.0 and float(adv.max()) <= 1.0


def test_pgd_restarts_keep_the_strongest_restart() -> None:
    """Restart 1 of a 4-restart run equals the single run with the same generator; the kept example is never
    weaker: it fools the model whenever the single run does, and otherwise has at least its loss."""
    torch.manual_seed(1)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 4))
    x = torch.rand(64, 1, 4, 4)
    y = torch.randint(0, 4, (64,))
    one = A.pgd(model, x, y, 0.05, 0.02, 3, generator=torch.Generator().manual_seed(5))
    four = A.pgd(model, x, y, 0.05, 0.02, 3, restarts=4, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        f1, f4 = model(one).argmax(1) != y, model(four).argmax(1) != y
        l1, l4 = A.cross_entropy(model(one), y), A.cross_entropy(model(four), y)
    assert bool((f4 | ~f1).all())
    same = f1 == f4
    assert bool((l4[same] >= l1[same] - 1e-6).all())
    assert bool((l4 > l1 + 1e-6).any()), "extra restarts should improve some sample"


def test_attacks_leave_model_grads_and_mode_alone() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 4))
    model.eval()
    x, y = torch.rand(4, 1, 4, 4), torch.randint(0, 4, (4,))
    for name in ("fgsm", "pgd", "mi_fgsm", "mai_fgplm"):
        kw = {"alpha": 0.01, "steps": 2} if name == "pgd" else {}
        A.get(name)(model, x, y, 0.05, **kw)
    assert all(p.grad is None for p in model.parameters())
    assert not model.training
    with pytest.raises(ConfigError, match="unknown attack"):
        A.get("fgsn")


# ------------------------------------------------------------------------------------------------ FGSM family


def run_1d(attack, steps: int = 5, **kw) -> float:
    """The attack on one 1-pixel image x0 = 0 maximising -(x - 0.25)^2 with alpha = 0.1, eps = 1, no bounds."""
    x = torch.zeros(1, 1)
    return float(attack(IDENTITY, x, torch.zeros(1, dtype=torch.long), 1.0, steps=steps, alpha=0.1,
                        loss=concave(0.25), bounds=None))


def test_i_fgsm_hand_iterates() -> None:
    """Signs + + + - + : 0.1, 0.2, 0.3, 0.2, 0.3."""
    assert run_1d(A.i_fgsm) == pytest.approx(0.3)
    assert run_1d(A.i_fgsm, steps=4) == pytest.approx(0.2)


def test_mi_fgsm_hand_iterates() -> None:
    """g accumulates the unit-normalised gradient: g = 1, 2, 3, 2 (at 0.3), 1 (at 0.4) -> x = 0.5."""
    assert run_1d(A.mi_fgsm) == pytest.approx(0.5)


def test_ni_fgsm_hand_iterates() -> None:
    """Look-ahead x + 0.1 g: probes 0, 0.2, 0.4, 0.4, 0.3 -> g = 1, 2, 1, 0, -1 -> x = 0.1, 0.2, 0.3, 0.3, 0.2."""
    assert run_1d(A.ni_fgsm) == pytest.approx(0.2)


def test_gaussian_kernel_hand_value() -> None:
    """size 3 samples the density at -3, 0, 3: weights e^{-4.5}, 1, e^{-4.5}, normalised."""
    e = math.exp(-4.5)
    one = torch.tensor([e, 1.0, e]) / (1 + 2 * e)
    assert torch.allclose(A.gaussian_kernel(3), torch.outer(one, one))
    k = A.gaussian_kernel(15)
    assert float(k.sum()) == pytest.approx(1.0) and torch.allclose(k, k.T) and torch.allclose(k, k.flip(0))
    with pytest.raises(ConfigError):
        A.gaussian_kernel(4)


def test_blur_spreads_a_delta_into_the_kernel() -> None:
    x = torch.zeros(1, 2, 7, 7)
    x[0, 1, 3, 3] = 1.0
    out = A.blur(x, A.gaussian_kernel(5))
    assert torch.allclose(out[0, 1, 1:6, 1:6], A.gaussian_kernel(5)) and float(out[0, 0].abs().sum()) == 0.0


def test_ti_fgsm_steps_along_the_blurred_gradient() -> None:
    """With objective sum(a * x), grad = a everywhere; TI steps along sign(W * a): an isolated positive pixel
    of a spreads to its neighbours, so those move up too (plain I-FGSM leaves them at sign(0) = 0)."""
    a = torch.zeros(1, 1, 5, 5)
    a[0, 0, 2, 2] = 1.0
    loss = lambda z, y: (z * a.flatten(1)).sum(1)  # noqa: E731
    x = torch.full((1, 1, 5, 5), 0.5)
    y = torch.zeros(1, dtype=torch.long)
    ti = A.ti_fgsm(IDENTITY, x, y, 0.1, steps=1, alpha=0.1, ti_kernel=3, loss=loss)
    plain = A.i_fgsm(IDENTITY, x, y, 0.1, steps=1, alpha=0.1, loss=loss)
    assert float(ti[0, 0, 1, 2]) == pytest.approx(0.6) and float(plain[0, 0, 1, 2]) == pytest.approx(0.5)
    assert float(ti[0, 0, 0, 0]) == pytest.approx(0.5)  # outside the 3x3 footprint


def test_diverse_input_definition() -> None:
    x = torch.rand(2, 3, 20, 20, requires_grad=True)
    g = torch.Generator().manual_seed(0)
    assert A.diverse_input(x, prob=0.0, generator=g) is x
    out = A.diverse_input(x, prob=1.0, resize_rate=1.2, resize_back=False, generator=g)
    assert out.shape == (2, 3, 24, 24)
    back = A.diverse_input(x, prob=1.0, generator=g)
    assert back.shape == x.shape
    back.sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0


def test_diverse_input_pads_with_zeros() -> None:
    """Rescaled to rnd in [S, 1.5 S) then zero-padded to 1.5 S = 15: rnd <= 14 leaves at least one zero line."""
    g = torch.Generator().manual_seed(3)
    out = A.diverse_input(torch.ones(1, 1, 10, 10), prob=1.0, resize_rate=1.5, resize_back=False, generator=g)
    rows_zero = (out[0, 0].abs().sum(1) == 0).sum() + (out[0, 0].abs().sum(0) == 0).sum()
    assert out.shape[-1] == 15 and int(rows_zero) >= 1


# ------------------------------------------------------------------------------------------------ Adam family


def test_increasing_step_sizes_hand_values() -> None:
    """c_t = (1 - 0.9^(t+1)) / sqrt(1 - 0.99^(t+1)): c_0 = 0.1 / 0.1 = 1, c_1 = 0.19 / sqrt(0.0199)."""
    c1 = 0.19 / math.sqrt(0.0199)
    assert A.increasing_step_sizes(1.0, 2) == pytest.approx([1 / (1 + c1), c1 / (1 + c1)])
    steps = A.increasing_step_sizes(16 / 255, 10)
    assert sum(steps) == pytest.approx(16 / 255) and all(b > a for a, b in zip(steps, steps[1:]))


def test_piecewise_linear_hand_values() -> None:
    z = torch.tensor([-5.0, -3.0, -2.0, 0.0, 1.0, 2.99, 3.0, 4.0])
    assert A.piecewise_linear(z, rho=0.5).tolist() == pytest.approx([-1, -1, -1, 0, 0.5, 1.495, 1, 1])
    assert torch.equal(A.piecewise_linear(z), A.piecewise_linear(z, rho=0.5))  # the paper's rho is the default


def test_ai_fgtm_hand_iterates_on_a_linear_objective() -> None:
    """grad = a constant: m_t = t mu1 a, v_t = t mu2 a^2, so step t adds alpha_t tanh(lam mu1 sqrt(t) / sqrt(mu2))."""
    a = 0.7
    loss = lambda z, y: a * z.sum(1)  # noqa: E731
    x = torch.zeros(1, 1)
    got = A.ai_fgtm(IDENTITY, x, torch.zeros(1, dtype=torch.long), 1.0, steps=3, loss=loss, bounds=None)
    alphas = A.increasing_step_sizes(1.0, 3)
    want = sum(al * math.tanh(1.3 * 1.5 * math.sqrt(t + 1) / math.sqrt(1.9)) for t, al in enumerate(alphas))
    assert float(got) == pytest.approx(want, rel=1e-6)


def test_mai_fgplm_regulariser_and_pl_hand_iterates() -> None:
    """Without TI (W * g = g) the moments are m_t = t (mu1 + gamma1) a, v_t = t (mu2 + gamma2) a^2 (lam = 0.5
    keeps the steps inside the eps-ball, so nothing is clipped)."""
    a = 0.7
    loss = lambda z, y: a * z.sum(1)  # noqa: E731
    x = torch.zeros(1, 1)
    got = A.mai_fgplm(IDENTITY, x, torch.zeros(1, dtype=torch.long), 1.0, steps=3, loss=loss, bounds=None,
                      tau=0.0, lam=0.5)
    alphas = A.increasing_step_sizes(1.0, 3)

    def pl(z: float) -> float:
        return 0.5 * z if abs(z) < 3 else math.copysign(1.0, z)

    want = sum(al * pl(0.5 * 1.62 * math.sqrt(t + 1) / math.sqrt(2.02)) for t, al in enumerate(alphas))
    assert float(got) == pytest.approx(want, rel=1e-6)


def test_adam_family_defaults_are_the_papers() -> None:
    """Defaults pinned by the same hand iterates: T = 10, mu1 1.5, mu2 1.9, lambda 1.3, tanh (AI-FGTM); MAI-FGPLM
    adds PL with rho 0.5 and gamma1 = gamma2 = 0.12 (Sect. 4.1)."""
    a = 0.7
    loss = lambda z, y: a * z.sum(1)  # noqa: E731
    x, y = torch.zeros(1, 1), torch.zeros(1, dtype=torch.long)
    alphas = A.increasing_step_sizes(1.0, 10)
    got = A.adam_fgm(IDENTITY, x, y, 1.0, loss=loss, bounds=None)
    want = sum(al * math.tanh(1.3 * 1.5 * math.sqrt(t + 1) / math.sqrt(1.9)) for t, al in enumerate(alphas))
    assert float(got) == pytest.approx(want, rel=1e-6)
    got = A.mai_fgplm(IDENTITY, x, y, 1.0, loss=loss, bounds=None, tau=0.0, lam=0.25)
    z = [0.25 * 1.62 * math.sqrt(t + 1) / math.sqrt(2.02) for t in range(10)]
    want = sum(al * (0.5 * zt if abs(zt) < 3 else 1.0) for zt, al in zip(z, alphas))
    assert float(got) == pytest.approx(want, rel=1e-6)
    pl = A.adam_fgm(IDENTITY, x, y, 1.0, loss=loss, bounds=None, squash="pl", lam=0.25)
    assert float(pl) == pytest.approx(float(A.adam_fgm(IDENTITY, x, y, 1.0, loss=loss, bounds=None, squash="pl",
                                                       lam=0.25, rho=0.5)), rel=1e-12)
    assert float(pl) != pytest.approx(float(A.adam_fgm(IDENTITY, x, y, 1.0, loss=loss, bounds=None, squash="pl",
                                                       lam=0.25, rho=0.4)), rel=1e-3)


def test_mixed_input_hand_value() -> None:
    """tau V*x + (1 - tau) x: a constant image stays constant in the interior, the zero-padded border darkens."""
    x = torch.ones(1, 1, 9, 9)
    mixed = A.mixed_input(x, A.gaussian_kernel(3), 0.5)
    assert float(mixed[0, 0, 4, 4]) == pytest.approx(1.0)
    e = math.exp(-4.5)
    corner_kept = ((1 + e) / (1 + 2 * e)) ** 2  # mass of the kernel inside the image at a corner
    assert float(mixed[0, 0, 0, 0]) == pytest.approx(0.5 * corner_kept + 0.5)


def test_mai_fgplm_gradient_is_taken_at_the_mixed_input() -> None:
    """Objective -(x - c)^2 with c per pixel: at x = 0 the gradient 2c does not depend on mixing; with a
    quadratic centred where mixing moves x, the first step's direction flips accordingly."""
    c = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.3, 0.0], [0.0, 0.0, 0.0]]).view(1, 9)
    loss = lambda z, y: -((z - c) ** 2).sum(1)  # noqa: E731
    x = torch.zeros(1, 1, 3, 3)
    x[0, 0, 1, 1] = 0.4  # above c at the centre: plain ascent moves it down
    y = torch.zeros(1, dtype=torch.long)
    plain = A.mai_fgplm(IDENTITY, x, y, 0.1, steps=1, tau=0.0, loss=loss, bounds=None)
    mixed = A.mai_fgplm(IDENTITY, x, y, 0.1, steps=1, tau=1.0, mix_kernel=A.gaussian_kernel(3, nsig=0.5),
                        loss=loss, bounds=None)
    # blurring drags the centre below 0.3 (its neighbours are 0), so the mixed gradient points up
    assert float(plain[0, 0, 1, 1]) < 0.4 < float(mixed[0, 0, 1, 1])


def test_ensemble_fuses_logits() -> None:
    m1, m2 = nn.Linear(3, 2), nn.Linear(3, 2)
    ens = A.LogitEnsemble([m1, m2], [0.25, 0.75])
    x = torch.randn(4, 3)
    assert torch.allclose(ens(x), 0.25 * m1(x) + 0.75 * m2(x))
    with pytest.raises(ConfigError):
        A.LogitEnsemble([m1, m2], [0.5, 0.6])


# ------------------------------------------------------------------------------------------------ patches, metrics


def test_patch_attack_changes_only_the_mask_and_lowers_the_objective() -> None:
    torch.manual_seed(0)
    x = torch.rand(2, 3, 8, 8)
    mask = torch.zeros(1, 1, 8, 8, dtype=torch.bool)
    mask[..., 2:5, 2:5] = True
    objective = lambda img: img.mean(dim=(1, 2, 3))  # noqa: E731
    out = A.patch_attack(objective, x, mask, steps=12, step_size=0.1, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out.x_adv[..., ~mask[0, 0]], x[..., ~mask[0, 0]])
    assert out.history[-1] < out.history[0]
    assert float(out.patch[..., mask[0, 0]].max()) <= 1.0 and float(out.patch.min()) >= 0.0
    assert torch.allclose(out.x_adv[..., mask[0, 0]], torch.zeros_like(out.x_adv[..., mask[0, 0]]))


def test_decaying_steps_hand_values() -> None:
    step = A.decaying_steps(8 / 255, 0.5, (30, 90, 190))
    assert [step(t) for t in (0, 29, 30, 89, 90, 190, 254)] == pytest.approx(
        [8 / 255, 8 / 255, 4 / 255, 4 / 255, 2 / 255, 1 / 255, 1 / 255])


def test_metrics_hand_values() -> None:
    x = torch.zeros(2, 1, 2, 2)
    assert A.average_perturbation_size(x + 1 / 255, x) == pytest.approx(1.0)
    model = linear_model(torch.tensor([1.0, 1.0, 1.0, 1.0]))  # predicts 0 iff sum(x) > 0
    x_adv = torch.tensor([[1.0, 0, 0, 0], [-1.0, 0, 0, 0]]).view(2, 1, 2, 2)
    assert A.attack_success_rate(model, x_adv, torch.tensor([0, 0])) == pytest.approx(0.5)
    acc = A.robust_accuracy(model, x_adv, torch.tensor([0, 0]), lambda m, xb, yb: xb)
    assert acc == pytest.approx(0.5)
