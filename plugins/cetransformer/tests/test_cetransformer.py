"""CETransformer: Eqs. 4-7 on hand-computed tensors, the covariate tokens, the alternating critic / model steps
(clipping, who updates what), the IHDP-like generator's known effects, the paper variant's sizes, and a short
seeded training run against the T-learner baseline on the same units."""
from __future__ import annotations

import pytest
import torch
from torch import nn

import zoo
import zoo.testing
from zoo.errors import ConfigError, DataError, InputError
from zoo_plugins.cetransformer.baselines import TLearner
from zoo_plugins.cetransformer.config import CETConfig, paper, tiny
from zoo_plugins.cetransformer.data import Units, ihdp_like, split_units
from zoo_plugins.cetransformer.losses import (
    adversarial_loss,
    critic_loss,
    factual_loss,
    reconstruction_loss,
    total_loss,
)
from zoo_plugins.cetransformer.model import CETransformer, FeatureTokens
from zoo_plugins.cetransformer.train import effect_errors, predict, step_fn


def test_conforms() -> None:
    zoo.testing.check_method("cetransformer")


# ----------------------------------------------------------------------------------------------- Eqs. 4-7


def test_losses_hand_computed() -> None:
    x = torch.tensor([[1.0, 2.0], [0.0, -1.0]])
    x_hat = torch.tensor([[0.0, 1.0], [2.0, 0.0]])
    assert float(reconstruction_loss(x, x_hat)) == pytest.approx((1 + 1 + 4 + 1) / 2)  # per unit, summed over F
    outcomes = torch.tensor([[1.0, 5.0], [2.0, 7.0], [0.0, -1.0]])
    t = torch.tensor([1, 0, 1])
    y = torch.tensor([4.0, 2.5, 1.0])
    # heads of the received treatment: 5, 2, -1 -> errors 1, -0.5, -2
    assert float(factual_loss(outcomes, t, y)) == pytest.approx((1 + 0.25 + 4) / 3)
    scores = torch.tensor([3.0, 1.0, 5.0, -1.0])
    tt = torch.tensor([1, 0, 1, 0])
    assert float(adversarial_loss(scores, tt)) == pytest.approx((3 + 5) / 2 - (1 - 1) / 2)  # E_t D - E_c D
    assert float(adversarial_loss(scores, torch.ones(4, dtype=torch.long))) == 0.0  # one group only
    assert float(total_loss(torch.tensor(2.0), torch.tensor(3.0), torch.tensor(5.0), 1.5, 0.5, 2.0)) == \
        pytest.approx(1.5 * 2 + 0.5 * 3 + 2 * 5)


def test_critic_maximises_the_gap_the_encoder_minimises() -> None:
    """The critic's loss is E_c D - E_t D (it maximises Eq. 5's gap); with a gradient penalty, the penalty is
    added on top."""
    critic = nn.Linear(2, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[1.0, 0.0]]))
        critic.bias.zero_()
    rep = torch.tensor([[2.0, 0.0], [4.0, 1.0], [1.0, 3.0], [-1.0, 0.0]])
    t = torch.tensor([1, 1, 0, 0])
    assert float(critic_loss(critic, rep, t)) == pytest.approx((1 - 1) / 2 - (2 + 4) / 2)
    assert float(critic_loss(critic, rep, torch.ones(4, dtype=torch.long))) == 0.0  # one group: nothing to separate
    assert float(critic_loss(critic, rep, torch.zeros(4, dtype=torch.long))) == 0.0
    # scores are linear with slope norm 1: the gradient penalty (||grad|| - 1)^2 vanishes
    assert float(critic_loss(critic, rep, t, gp_weight=10.0)) == pytest.approx(-3.0, abs=1e-5)
    with torch.no_grad():
        critic.weight.mul_(3)
    assert float(critic_loss(critic, rep, t, gp_weight=10.0)) == pytest.approx(-9.0 + 10 * (3 - 1) ** 2, abs=1e-4)
    assert float(critic_loss(critic, rep, t)) == pytest.approx(-9.0)  # no penalty unless asked


def test_feature_tokens_are_per_covariate_affine_maps_with_a_cls_token() -> None:
    tokens = FeatureTokens(2, 3)
    with torch.no_grad():
        tokens.weight.copy_(torch.tensor([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]]))
        tokens.bias.copy_(torch.tensor([[0.5, 0.5, 0.5], [0.0, 0.0, 1.0]]))
        tokens.cls.fill_(7.0)
    out = tokens(torch.tensor([[2.0, 3.0]]))
    assert out.shape == (1, 3, 3)
    assert out[0].tolist() == [[7.0, 7.0, 7.0], [2.5, 0.5, 4.5], [0.0, 3.0, -2.0]]


def test_outputs_are_rescaled_and_the_critic_is_not_a_model_parameter() -> None:
    model = CETransformer(tiny())
    with torch.no_grad():
        model.y_mean.fill_(3.0)
        model.y_std.fill_(2.0)
    x = torch.randn(4, 25)
    assert torch.allclose(model(x), model.outcomes(model.represent(x)) * 2 + 3)
    names = {id(p) for p in model.model_parameters()}
    assert not any(id(p) in names for p in model.critic.parameters())
    assert len(names) == sum(1 for _ in model.parameters()) - sum(1 for _ in model.critic.parameters())
    with pytest.raises(InputError):
        model(torch.randn(4, 24))


def test_one_step_clips_the_critic_and_updates_each_player_in_its_phase() -> None:
    from zoo_plugins.cetransformer.train import optimizer_of

    config = CETConfig(n_critic=2, clip=0.01)
    torch.manual_seed(0)
    model = CETransformer(config)
    data = ihdp_like(64, seed=0)
    optimizer = optimizer_of(model, config)
    critic_before = [p.detach().clone() for p in model.critic.parameters()]
    encoder_before = [p.detach().clone() for p in model.encoder.parameters()]
    logs = step_fn(config)(model, (data.x, data.t, data.y), optimizer)
    assert {"critic_loss", "adversarial", "reconstruction", "factual"} <= set(logs)
    assert all(float(p.abs().max()) <= 0.01 + 1e-9 for p in model.critic.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(critic_before, model.critic.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(encoder_before, model.encoder.parameters()))
    # beta = 0: no critic step at all (the "without discriminator" ablation)
    config0 = CETConfig(beta=0.0)
    model0 = CETransformer(config0)
    frozen_critic = [p.detach().clone() for p in model0.critic.parameters()]
    logs0 = step_fn(config0)(model0, (data.x, data.t, data.y), optimizer_of(model0, config0))
    assert "critic_loss" not in logs0
    assert all(torch.equal(a, b) for a, b in zip(frozen_critic, model0.critic.parameters()))


# ------------------------------------------------------------------------------------------------- data


def test_ihdp_like_generator_has_the_benchmarks_structure() -> None:
    data = ihdp_like(747, seed=3)
    assert data.x.shape == (747, 25) and set(data.t.unique().tolist()) == {0, 1}
    assert 0.12 < float(data.t.float().mean()) < 0.26  # ~ 139 / 747 treated
    assert set(data.x[:, 6:].unique().tolist()) <= {0.0, 1.0}
    treated = data.t == 1
    assert float(data.ite[treated].mean()) == pytest.approx(4.0, abs=1e-4)  # omega: ATT = 4 (surface B)
    assert float((data.y - torch.where(treated, data.mu1, data.mu0)).std()) == pytest.approx(1.0, abs=0.15)
    parts = [split_units(data, p, seed=3) for p in ("train", "val", "test")]
    assert [len(p) for p in parts] == [470, 202, 75]  # 63 / 27 / 10 %
    assert torch.equal(ihdp_like(50, seed=1).x, ihdp_like(50, seed=1).x)
    assert not torch.equal(ihdp_like(50, seed=1).x, ihdp_like(50, seed=2).x)
    with pytest.raises(DataError):
        split_units(data, "dev")


def test_effect_errors_hand_computed() -> None:
    data = ihdp_like(4, seed=0)
    tau = data.ite
    errors = effect_errors(data.mu0, data.mu0 + tau + torch.tensor([1.0, -1.0, 1.0, -1.0]), data)
    assert errors["sqrt_pehe"] == pytest.approx(1.0, abs=1e-5) and errors["ate_error"] == pytest.approx(0, abs=1e-5)
    errors = effect_errors(data.mu0, data.mu0 + tau + 2, data)
    assert errors["sqrt_pehe"] == pytest.approx(2.0, abs=1e-5) and errors["ate_error"] == pytest.approx(2, abs=1e-5)
    errors = effect_errors(data.mu0, data.mu0 + tau - 2, data)  # under-estimated: the error is still positive
    assert errors["ate_error"] == pytest.approx(2, abs=1e-5)


def test_ols_t_learner_is_exact_on_linear_potential_outcomes() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 3, generator=g)
    t = (torch.rand(200, generator=g) < 0.4).long()
    mu0, mu1 = x @ torch.tensor([1.0, -2.0, 0.5]) + 1, x @ torch.tensor([0.0, 3.0, 1.0]) - 2
    data = Units(x, t, torch.where(t == 1, mu1, mu0), mu0, mu1)
    errors = effect_errors(*TLearner("ols").fit(data).predict(x), data)
    assert errors["sqrt_pehe"] < 1e-4 and errors["ate_error"] < 1e-4
    with pytest.raises(ConfigError):
        TLearner("forest")


# ------------------------------------------------------------------------------------------ paper sizes


def test_paper_variant_sizes() -> None:
    """The paper gives no sizes; the paper variant's guess (d = 64, 3 pre-norm blocks of 4 heads, FFN 128, heads
    of 64 hidden units, 25 IHDP covariates) is pinned here by its parameter count, counted by hand."""
    config = paper()
    assert (config.num_features, config.dim, config.blocks, config.heads, config.ffn, config.hidden) == \
        (25, 64, 3, 4, 128, 64)
    d, f, h, n = 64, 128, 64, 25
    block = (3 * d * d + 3 * d) + (d * d + d) + (d * f + f) + (f * d + d) + 2 * 2 * d
    encoder = 2 * n * d + d + 3 * block + 2 * d
    heads = (d * h + h + h * n + n) + 3 * (d * h + h + h + 1)
    model = CETransformer(config)
    assert sum(p.numel() for p in model.encoder.parameters()) == encoder
    assert sum(p.numel() for p in model.parameters()) == encoder + heads
    with pytest.raises(ConfigError):
        CETConfig(dim=10, heads=4)


# ----------------------------------------------------------------------------------------------- the claim


def test_short_training_learns_the_effects() -> None:
    """On one IHDP-like realization (surface B: heterogeneous effects, ATT = 4), a short seeded run of Eq. 7
    estimates individual effects out of sample far better than the untrained model (which predicts no effect)
    and recovers the average effect; Table 1's comparison with the T-learners is in ``experiments.py``."""
    model = zoo.build("cetransformer-tiny", seed=0)
    train = zoo.make_data(model, "ihdp-like", "train")  # realization 0
    test = zoo.make_data(model, "ihdp-like", "test")
    untrained = effect_errors(*predict(model, test.x).unbind(1), test)
    zoo.train(model, train, seed=0, progress=False, steps=STEPS)
    ours = zoo.evaluate(model, test)
    assert ours["sqrt_pehe"] < 0.5 * untrained["sqrt_pehe"], (ours, untrained)
    assert ours["ate_error"] < 0.25 * float(test.ite.mean().abs()), ours
    assert predict(model, test.x).shape == (len(test), 2)


STEPS = 150
