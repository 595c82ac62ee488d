"""CDL's contrastive divergence loss: the KL, its weighting and the paper's gradient routing."""
from __future__ import annotations

import math

import pytest
import torch
from zoo_plugins.driving import config as C
from zoo_plugins.driving.losses import bernoulli_kl, cdl_loss, cdl_objective, public_code_kl, regression_loss
from zoo_plugins.driving.model import CDLNet

from zoo.errors import ConfigError


def _kl(a: float, b: float) -> float:
    p, q = 1 / (1 + math.exp(-a)), 1 / (1 + math.exp(-b))
    return p * math.log(p / q) + (1 - p) * math.log((1 - p) / (1 - q))


def test_bernoulli_kl_matches_closed_form_and_vanishes_on_equal_outputs() -> None:
    a = torch.tensor([0.3, -1.2, 2.0])
    b = torch.tensor([-0.4, 0.5, 2.0])
    expected = sum(_kl(x, y) for x, y in zip(a.tolist(), b.tolist())) / 3
    assert bernoulli_kl(a, b).item() == pytest.approx(expected, rel=1e-5)
    assert bernoulli_kl(a, a).item() == pytest.approx(0.0, abs=1e-7)
    assert bernoulli_kl(a, b).item() != pytest.approx(bernoulli_kl(b, a).item())  # not symmetric


def test_public_code_kl_is_the_kldivloss_on_probabilities() -> None:
    a, b = torch.tensor([[0.3], [-1.0]]), torch.tensor([[0.1], [0.7]])
    ref = torch.nn.KLDivLoss(reduction="batchmean")(torch.sigmoid(a), torch.sigmoid(b))
    assert public_code_kl(a, b).item() == pytest.approx(ref.item(), rel=1e-6)


def test_cdl_loss_weights_the_pair_by_beta() -> None:
    yb, ys = torch.tensor([0.5, -0.2]), torch.tensor([-0.3, 0.4])
    loss, logs = cdl_loss(yb, ys, beta=0.25)
    assert loss.item() == pytest.approx(0.25 * logs["cd_pos"] + 0.75 * logs["cd_neg"], rel=1e-6)
    assert logs["cd_pos"] == pytest.approx(bernoulli_kl(yb, ys).item(), rel=1e-6)
    assert logs["cd_neg"] == pytest.approx(bernoulli_kl(ys, yb).item(), rel=1e-6)
    with pytest.raises(ConfigError):
        cdl_loss(yb, ys, beta=1.5)


def _grads(model: CDLNet) -> tuple[float, float]:
    gb = sum(float(p.grad.abs().sum()) for p in model.backbone.parameters() if p.grad is not None)
    gs = sum(float(p.grad.abs().sum()) for p in model.sub.parameters() if p.grad is not None)
    return gb, gs


def _perturbed_model() -> CDLNet:
    torch.manual_seed(0)
    model = CDLNet(C.cdl_tiny())
    with torch.no_grad():
        for p in model.sub.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model


def test_gradient_routing_backbone_gets_cd_plus_and_sub_gets_cd_minus() -> None:
    x = torch.rand(4, 1, 48, 48)
    model = _perturbed_model()
    yb, ys = model.pair(x)
    cdl_loss(yb, ys, beta=1.0)[0].backward()  # L_cd+ only
    gb, gs = _grads(model)
    assert gb > 0 and gs == 0
    model.zero_grad(set_to_none=True)
    yb, ys = model.pair(x)
    cdl_loss(yb, ys, beta=0.0)[0].backward()  # L_cd- only
    gb, gs = _grads(model)
    assert gb == 0 and gs > 0
    model.zero_grad(set_to_none=True)
    loss, logs = cdl_objective(model, x, torch.zeros(4), beta=0.5)
    loss.backward()
    gb, gs = _grads(model)
    assert gb > 0 and gs > 0 and set(logs) == {"lr", "cd_pos", "cd_neg"}
    # L_lr never reaches the sub-network
    model.zero_grad(set_to_none=True)
    regression_loss(model(x), torch.ones(4)).backward()
    assert _grads(model)[1] == 0


def test_public_code_mode_sends_both_terms_into_both_branches() -> None:
    x = torch.rand(4, 1, 48, 48)
    model = _perturbed_model()
    yb, ys = model.pair(x)
    cdl_loss(yb, ys, beta=1.0, kl="public_code")[0].backward()
    gb, gs = _grads(model)
    assert gb > 0 and gs > 0


def test_first_round_objective_is_the_regression_loss_alone() -> None:
    model = _perturbed_model()
    x, y = torch.rand(4, 1, 48, 48), torch.randn(4)
    model.eval()
    loss, logs = cdl_objective(model, x, y, beta=0.5, contrastive=False)
    assert loss.item() == pytest.approx(regression_loss(model(x), y).item(), rel=1e-6) and set(logs) == {"lr"}
    l1, _ = cdl_objective(model, x, y, beta=0.5, regression="l1", contrastive=False)
    assert l1.item() == pytest.approx((model(x).reshape(-1) - y).abs().mean().item(), rel=1e-6)


def test_objective_is_the_regression_loss_plus_the_contrastive_term_by_hand() -> None:
    """``L_final = L_lr + L_cd``: recomputed from the two branch outputs with the closed-form Bernoulli KL."""
    model = _perturbed_model()
    x, y = torch.rand(3, 1, 48, 48), torch.randn(3)
    model.eval()
    loss, logs = cdl_objective(model, x, y, beta=0.25)
    with torch.no_grad():
        yb, ys = (t.reshape(-1) for t in model.pair(x))
    l_lr = float(((yb - y) ** 2).mean())
    pos = sum(_kl(float(a), float(b)) for a, b in zip(yb, ys)) / 3
    neg = sum(_kl(float(b), float(a)) for a, b in zip(yb, ys)) / 3
    assert pos > 1e-4 and neg > 1e-4  # the branches differ, so the contrastive term is not zero
    assert logs["lr"] == pytest.approx(l_lr, rel=1e-5)
    assert loss.item() == pytest.approx(l_lr + 0.25 * pos + 0.75 * neg, rel=1e-5)


def test_training_step_uses_the_regression_loss_alone_in_round_zero_only() -> None:
    from zoo_plugins.driving.train import step_loss

    model, cfg = _perturbed_model(), C.cdl_tiny()
    x, y = torch.rand(3, 1, 48, 48), torch.randn(3)
    model.eval()
    first, logs0 = step_loss("cdl", model, x, y, cfg, round_idx=0)
    assert first.item() == pytest.approx(regression_loss(model(x), y).item(), rel=1e-6) and set(logs0) == {"lr"}
    later, logs1 = step_loss("cdl", model, x, y, cfg, round_idx=1)
    full, _ = cdl_objective(model, x, y, cfg.beta, cfg.kl, cfg.regression)
    assert later.item() == pytest.approx(full.item(), rel=1e-6) and later.item() > first.item() + 1e-6
    assert "cd_pos" in logs1
