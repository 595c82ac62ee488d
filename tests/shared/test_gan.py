"""zoo.gan: every loss against its formula on hand-computed logits, the quantile losses against explicit loops and
against quantile regression's defining property, the two-player loop's mechanics (n_critic, frozen players,
clipping, seeding, exact resume), the exact W1 and the toy mixtures."""
from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from zoo.errors import ConfigError
from zoo.gan import (
    GANPair,
    GANRecipe,
    bce_discriminator_loss,
    bce_generator_loss,
    clip_weights_,
    fit_gan,
    gan_step_fn,
    gradient_penalty,
    hinge_discriminator_loss,
    hinge_generator_loss,
    make_objective,
    mixture_centres,
    pinball,
    quantile_critic_loss,
    quantile_critic_objective,
    quantile_fractions,
    quantile_generator_loss,
    ralsgan_discriminator_loss,
    ralsgan_generator_loss,
    sample_mixture,
    two_player_optimizer,
    wasserstein1,
    wasserstein1_1d,
    wasserstein_critic_loss,
    wasserstein_estimate,
    wasserstein_generator_loss,
)
from zoo.options import TrainOptions

T = torch.tensor


def sp(x: float) -> float:
    """softplus"""
    return math.log1p(math.exp(x))


# ------------------------------------------------------------------------------------------ hand-computed


def test_bce_losses_hand_values() -> None:
    real, fake = T([0.0, 2.0]), T([-1.0, 1.0])
    # -log sigmoid(r) = softplus(-r); -log(1 - sigmoid(f)) = softplus(f)
    d = (sp(0.0) + sp(-2.0)) / 2 + (sp(-1.0) + sp(1.0)) / 2
    assert bce_discriminator_loss(real, fake).item() == pytest.approx(d, rel=1e-6)
    assert bce_generator_loss(fake).item() == pytest.approx((sp(1.0) + sp(-1.0)) / 2, rel=1e-6)
    # minimax generator: E log(1 - sigmoid(f)) = -E softplus(f)
    assert bce_generator_loss(fake, saturating=True).item() == pytest.approx(-(sp(-1.0) + sp(1.0)) / 2, rel=1e-6)
    assert bce_generator_loss(T([3.0]), saturating=True).item() == pytest.approx(-sp(3.0), rel=1e-6)


def test_hinge_losses_hand_values() -> None:
    real, fake = T([0.5, 2.0, -1.0]), T([-2.0, 0.0, 0.5])
    assert hinge_discriminator_loss(real, fake).item() == pytest.approx((0.5 + 0 + 2) / 3 + (0 + 1 + 1.5) / 3)
    assert hinge_generator_loss(fake).item() == pytest.approx(0.5)


def test_wasserstein_losses_hand_values() -> None:
    real, fake = T([1.0, 3.0]), T([0.0, -2.0])
    assert wasserstein_critic_loss(real, fake).item() == pytest.approx(-3.0)
    assert wasserstein_estimate(real, fake).item() == pytest.approx(3.0)
    assert wasserstein_generator_loss(fake).item() == pytest.approx(1.0)


def test_ralsgan_losses_hand_values() -> None:
    real, fake = T([1.0, 3.0]), T([0.0, -2.0])  # means 2 and -1
    d = ((1 + 1 - 1) ** 2 + (3 + 1 - 1) ** 2) / 2 + ((0 - 2 + 1) ** 2 + (-2 - 2 + 1) ** 2) / 2
    g = ((0 - 2 - 1) ** 2 + (-2 - 2 - 1) ** 2) / 2 + ((1 + 1 + 1) ** 2 + (3 + 1 + 1) ** 2) / 2
    assert (d, g) == (10, 34)
    assert ralsgan_discriminator_loss(real, fake).item() == pytest.approx(10.0)
    assert ralsgan_generator_loss(real, fake).item() == pytest.approx(34.0)


def test_gradient_penalty_of_a_linear_critic_is_lambda_times_norm_minus_one_squared() -> None:
    w = T([3.0, 4.0])
    critic = lambda x: x @ w  # noqa: E731 - gradient w everywhere, norm 5
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    assert gradient_penalty(critic, real, fake).item() == pytest.approx(10 * (5 - 1) ** 2)
    assert gradient_penalty(critic, real, fake, weight=2.0, target=3.0).item() == pytest.approx(2 * (5 - 3) ** 2)


def test_gradient_penalty_interpolates_with_one_uniform_draw_per_sample() -> None:
    """f(x) = ||x||^2 / 2 has gradient x, so the penalty is E (||e x_r + (1 - e) x_g|| - 1)^2."""
    critic = lambda x: 0.5 * x.pow(2).flatten(1).sum(1)  # noqa: E731
    real, fake = torch.randn(5, 2, 3), torch.randn(5, 2, 3)
    e = torch.rand(5, 1, 1, generator=torch.Generator().manual_seed(7))
    x_hat = e * real + (1 - e) * fake
    expected = ((x_hat.flatten(1).norm(dim=1) - 1) ** 2).mean()
    got = gradient_penalty(critic, real, fake, weight=1.0, generator=torch.Generator().manual_seed(7))
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)
    with pytest.raises(ConfigError):
        gradient_penalty(critic, real, fake[:4])


def test_weight_clipping_clamps_every_parameter() -> None:
    net = nn.Linear(4, 3)
    with torch.no_grad():
        net.weight.copy_(torch.linspace(-1, 1, 12).view(3, 4))
        net.bias.copy_(T([0.5, -0.005, -0.2]))
    clip_weights_(net, 0.01)
    assert float(net.weight.detach().abs().max()) == pytest.approx(0.01)
    assert net.bias.tolist() == pytest.approx([0.01, -0.005, -0.01])
    with pytest.raises(ConfigError):
        clip_weights_(net, 0.0)


# ---------------------------------------------------------------------------------------- quantile losses


def test_pinball_hand_values() -> None:
    u = T([-2.0, 0.0, 3.0])
    assert pinball(u, 0.25).tolist() == pytest.approx([1.5, 0.0, 0.75])
    assert pinball(u, 0.9).tolist() == pytest.approx([0.2, 0.0, 2.7])


def test_quantile_critic_objective_hand_value() -> None:
    """real scores [[1, 0], [3, 2]], fake [[2, 0.5]], taus (0.25, 0.75):
    h=0: rho_.25(-1) + rho_.75(-0.5) = 0.75 + 0.125; h=1: rho_.25(1) + rho_.75(1.5) = 0.25 + 1.125; mean 1.125."""
    real, fake, taus = T([[1.0, 0.0], [3.0, 2.0]]), T([[2.0, 0.5]]), T([0.25, 0.75])
    assert quantile_critic_objective(real, fake, taus).item() == pytest.approx(1.125)
    assert quantile_critic_loss(real, fake, taus).item() == pytest.approx(-1.125)


def test_quantile_generator_loss_hand_value() -> None:
    """Same scores; every target quantile j against every regressed quantile i:
    h=0: .75 + .375 + 1.5 + .125 = 2.75; h=1: .25 + 1.875 + 0 + 1.125 = 3.25; mean 3.0."""
    real, fake, taus = T([[1.0, 0.0], [3.0, 2.0]]), T([[2.0, 0.5]]), T([0.25, 0.75])
    assert quantile_generator_loss(real, fake, taus).item() == pytest.approx(3.0)


def test_quantile_losses_equal_algorithm_1_loops() -> None:
    g = torch.Generator().manual_seed(0)
    m_r, m_g, n, m_targets = 3, 4, 5, 2
    real, fake = torch.randn(m_r, n, generator=g), torch.randn(m_g, n, generator=g)
    real_targets = torch.randn(m_r, m_targets, generator=g)
    taus = torch.rand(n, generator=g)
    rho = lambda u, t: u * (t - (1.0 if u < 0 else 0.0))  # noqa: E731
    line5 = sum(rho(real[h, i] - fake[k, i], taus[i]) for k in range(m_g) for i in range(n)
                for h in range(m_r)) / (m_r * m_g)
    line10 = sum(rho(real_targets[h, j] - fake[k, i], taus[i]) for k in range(m_g) for j in range(m_targets)
                 for i in range(n) for h in range(m_r)) / (m_r * m_g)
    assert quantile_critic_objective(real, fake, taus).item() == pytest.approx(float(line5), rel=1e-5)
    assert quantile_generator_loss(real_targets, fake, taus).item() == pytest.approx(float(line10), rel=1e-5)
    with pytest.raises(ConfigError, match="scores"):
        quantile_generator_loss(real[0], fake, taus)


def test_quantile_generator_loss_is_minimised_at_the_target_quantiles() -> None:
    """Quantile regression: with free scores z_i, sum_i E_x rho_tau_i(x - z_i) is minimal at the tau_i-quantiles
    of x, i.e. where W1 between the N-atom distribution {z_i} and x is minimal (QR-GAN Eqs. 8-11)."""
    x = torch.randn(201, 1, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    taus = quantile_fractions(4).double()
    grid = torch.linspace(-3, 3, 1201, dtype=torch.float64)
    best = []
    for t in taus:
        losses = torch.stack([quantile_generator_loss(x, z.view(1, 1), t.view(1)) for z in grid])
        best.append(float(grid[losses.argmin()]))
    expected = torch.quantile(x.flatten(), taus, interpolation="lower").tolist()
    assert best == pytest.approx(expected, abs=6e-3)


def test_quantile_fractions() -> None:
    assert quantile_fractions(4).tolist() == pytest.approx([0.125, 0.375, 0.625, 0.875])
    u = quantile_fractions(16, "sorted-uniform", generator=torch.Generator().manual_seed(0))
    assert bool((u[1:] >= u[:-1]).all()) and bool(((u > 0) & (u < 1)).all())
    with pytest.raises(ConfigError):
        quantile_fractions(4, "nope")


# ------------------------------------------------------------------------------------------- objectives


def test_objectives_by_name_and_their_lipschitz_devices() -> None:
    assert make_objective("wgan").clip == 0.01 and make_objective("wgan-gp").gp_weight == 10.0
    assert make_objective("quantile").clip == 0.05 and make_objective("quantile").n_quantiles == 16
    assert make_objective("hinge").clip is None
    with pytest.raises(ConfigError, match="bce, bce-saturating"):
        make_objective("lsgan")
    with pytest.raises(ConfigError, match="unknown settings"):
        make_objective("hinge", n_quantiles=3)


@pytest.mark.parametrize("name,expected", [
    ("bce", lambda r, f: (bce_discriminator_loss(r, f), bce_generator_loss(f))),
    ("bce-saturating", lambda r, f: (bce_discriminator_loss(r, f), bce_generator_loss(f, saturating=True))),
    ("hinge", lambda r, f: (hinge_discriminator_loss(r, f), hinge_generator_loss(f))),
    ("wgan", lambda r, f: (wasserstein_critic_loss(r, f), wasserstein_generator_loss(f))),
    ("ralsgan", lambda r, f: (ralsgan_discriminator_loss(r, f), ralsgan_generator_loss(r, f))),
])
def test_objective_routes_to_its_losses(name, expected) -> None:
    critic = lambda x: x.sum(1) * 0.7 - 0.1  # noqa: E731
    real, fake = torch.randn(4, 3), torch.randn(4, 3)
    obj = make_objective(name)
    d, g = expected(critic(real), critic(fake))
    assert obj.critic_loss(critic, real, fake)[0].item() == pytest.approx(d.item(), rel=1e-6)
    assert obj.generator_loss(critic, real, fake)[0].item() == pytest.approx(g.item(), rel=1e-6)


def test_wgan_gp_objective_adds_the_penalty() -> None:
    critic = lambda x: x @ T([0.0, 2.0])  # noqa: E731 - gradient norm 2
    real, fake = torch.randn(4, 2), torch.randn(4, 2)
    loss, metrics = make_objective("wgan-gp", gp_weight=3.0).critic_loss(critic, real, fake)
    base = wasserstein_critic_loss(critic(real), critic(fake))
    assert loss.item() == pytest.approx(base.item() + 3.0 * (2 - 1) ** 2, rel=1e-5)
    assert metrics["gradient_penalty"] == pytest.approx(3.0)


def test_quantile_objective_scores_the_critic_at_its_fractions() -> None:
    seen: list[torch.Tensor] = []

    def critic(x: torch.Tensor, taus: torch.Tensor) -> torch.Tensor:
        seen.append(taus)
        return x[:, :1] * taus  # [m, N]

    real, fake = torch.randn(3, 2), torch.randn(5, 2)
    obj = make_objective("quantile", n_quantiles=4, target_quantiles=2)
    loss, _ = obj.critic_loss(critic, real, fake)
    taus = quantile_fractions(4)
    assert loss.item() == pytest.approx(-quantile_critic_objective(real[:, :1] * taus, fake[:, :1] * taus,
                                                                   taus).item(), rel=1e-6)
    g, _ = obj.generator_loss(critic, real, fake)
    targets = quantile_fractions(2)
    assert g.item() == pytest.approx(quantile_generator_loss(real[:, :1] * targets, fake[:, :1] * taus,
                                                             taus).item(), rel=1e-6)
    assert [len(t) for t in seen] == [4, 4, 2, 4]


# ------------------------------------------------------------------------------------------ the loop


def tiny_pair(seed: int = 0) -> GANPair:
    torch.manual_seed(seed)
    generator = nn.Linear(1, 1)
    critic = nn.Sequential(nn.Linear(1, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    return GANPair(generator, critic, latent_dim=1)


def run(pair: GANPair, objective: str, steps: int, tmp: Path | None = None, resume: bool = False, seed: int = 0,
        **recipe) -> object:
    data = 3.0 + 0.5 * torch.randn(512, 1, generator=torch.Generator().manual_seed(0))
    options = TrainOptions(steps=steps, seed=seed, progress=False, out_dir=str(tmp) if tmp else None,
                           resume=resume)
    return fit_gan(pair, data, make_objective(objective), GANRecipe(steps=steps, batch_size=32, **recipe), options)


def test_n_critic_updates_per_generator_update_and_each_player_steps_alone() -> None:
    pair = tiny_pair()
    result = run(pair, "wgan", steps=4, n_critic=3, lr_critic=1e-3, lr_generator=1e-3)
    assert len(result.history["loss"]) == 4 and result.history["critic_steps"] == [3.0] * 4
    # Adam's per-parameter step counters: critic 3 per generator step, generator 1 (never touched by the other)
    pair = tiny_pair()
    opt = two_player_optimizer(pair, 1e-3, 1e-3)
    step = gan_step_fn(make_objective("wgan"), n_critic=3)
    before_g = [p.clone() for p in pair.generator.parameters()]
    for _ in range(2):
        step(pair, (torch.randn(96, 1),), opt)
    steps = {g["name"]: [int(opt.state[p]["step"]) for p in g["params"]] for g in opt.param_groups}
    assert set(steps["critic"]) == {6} and set(steps["generator"]) == {2}
    assert any(not torch.equal(a, b) for a, b in zip(before_g, pair.generator.parameters()))
    with pytest.raises(ConfigError, match="cannot feed"):
        step(pair, (torch.randn(2, 1),), opt)


def test_clipped_objective_keeps_the_critic_in_the_box() -> None:
    pair = tiny_pair()
    run(pair, "wgan", steps=5, n_critic=2, lr_critic=0.05, lr_generator=1e-3, optimizer="rmsprop")
    assert max(float(p.abs().max()) for p in pair.critic.parameters()) <= 0.01 + 1e-9


def test_seeded_runs_are_identical_and_resume_is_exact(tmp_path: Path) -> None:
    kw = dict(n_critic=2, lr_critic=1e-3, lr_generator=1e-3)
    a, b = tiny_pair(), tiny_pair()
    run(a, "wgan-gp", steps=6, tmp=tmp_path / "a", **kw)
    run(b, "wgan-gp", steps=3, tmp=tmp_path / "b", **kw)
    c = tiny_pair(seed=1)  # different init: resume must restore everything from the checkpoint
    run(c, "wgan-gp", steps=6, tmp=tmp_path / "b", resume=True, **kw)
    for x, y in zip(a.state_dict().values(), c.state_dict().values()):
        assert torch.equal(x, y)
    d = tiny_pair()
    run(d, "wgan-gp", steps=6, **kw)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), d.state_dict().values()))


def test_wgan_gp_moves_the_generator_to_the_data() -> None:
    pair = tiny_pair()
    with torch.no_grad():
        start = float(pair.sample(2000).mean())
    run(pair, "wgan-gp", steps=150, n_critic=3, lr_critic=2e-2, lr_generator=2e-2)
    with torch.no_grad():
        samples = pair.sample(2000)
    assert abs(start) < 1.5 and abs(float(samples.mean()) - 3.0) < 0.75  # the data's mean is 3


# -------------------------------------------------------------------------------------- metrics, toys


def test_w1_is_the_optimal_assignment() -> None:
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(5, 2, generator=g), torch.randn(5, 2, generator=g)
    brute = min(sum(float((a[i] - b[j]).norm()) for i, j in enumerate(perm)) / 5
                for perm in itertools.permutations(range(5)))
    assert wasserstein1(a, b) == pytest.approx(brute, rel=1e-6)
    brute_l1 = min(sum(float((a[i] - b[j]).abs().sum()) for i, j in enumerate(perm)) / 5
                   for perm in itertools.permutations(range(5)))
    assert wasserstein1(a, b, p=1) == pytest.approx(brute_l1, rel=1e-6)
    assert wasserstein1(a, a + T([1.0, 0.0])) == pytest.approx(1.0)
    with pytest.raises(ConfigError):
        wasserstein1(a, b[:4])


def test_w1_1d_closed_form() -> None:
    from scipy.stats import wasserstein_distance

    g = torch.Generator().manual_seed(2)
    a, b = torch.randn(50, generator=g), torch.randn(50, generator=g) * 2 + 1
    assert wasserstein1_1d(a, b) == pytest.approx(wasserstein_distance(a.numpy(), b.numpy()), rel=1e-6)
    assert wasserstein1_1d(a.view(-1, 1), b.view(-1, 1)) == pytest.approx(wasserstein1(a.view(-1, 1),
                                                                                      b.view(-1, 1)), rel=1e-6)


def test_mixtures() -> None:
    ring = mixture_centres(8, "ring", 2.0)
    assert ring.norm(dim=1).tolist() == pytest.approx([2.0] * 8, abs=1e-6)
    assert ring[2].tolist() == pytest.approx([0.0, 2.0], abs=1e-6)
    grid = mixture_centres(25, "grid", 2.0)
    assert grid.shape == (25, 2) and sorted(set(grid[:, 0].tolist())) == pytest.approx([-2, -1, 0, 1, 2])
    x = sample_mixture(4000, 8, std=0.02, generator=torch.Generator().manual_seed(0))
    nearest = torch.cdist(x, ring).min(1)
    assert float(nearest.values.max()) < 0.15
    assert torch.bincount(nearest.indices, minlength=8).min() > 400
    with pytest.raises(ConfigError):
        mixture_centres(8, "grid")
