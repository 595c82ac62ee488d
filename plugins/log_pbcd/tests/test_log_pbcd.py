"""LOG-PBCD: each closed-form block update is the minimiser of its subproblem, the log prox sparsifies, the
paper's sizes, and the paper's claim against full-batch SGD on real digits."""
from __future__ import annotations

import dataclasses

import pytest
import torch

import zoo
import zoo.testing
from zoo.errors import ConfigError
from zoo.options import TrainOptions
from zoo.prox import log_threshold, relu_prox
from zoo_plugins.log_pbcd.bcd import (
    activation_sparsity,
    init_state,
    objective,
    sweep,
    update_last_a,
    update_output_z,
    update_sparse_a,
    update_weights,
    update_z,
)
from zoo_plugins.log_pbcd.config import LogPBCDConfig, paper, tiny
from zoo_plugins.log_pbcd.model import LogPBCDNet
from zoo_plugins.log_pbcd.train import accuracy, sgd_baseline, train


def _small() -> tuple[LogPBCDConfig, LogPBCDNet, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    config = LogPBCDConfig(image_size=2, hidden=(5, 4), num_classes=3, lam=1e-2, rho=1.3, delta=0.7, gamma=0.9,
                           beta=1.1, alpha=0.8)  # distinct weights: dropping or swapping one changes the result
    x = torch.rand(7, 1, 2, 2, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0])
    net = LogPBCDNet(config).double()
    with torch.no_grad():  # non-zero biases, so that every term with B shows in the updates
        for layer in net.layers:
            layer.bias.uniform_(-0.5, 0.5)
    return config, net, x, y


def _off_forward(t: torch.Tensor, seed: int) -> torch.Tensor:
    """``t`` moved off the forward pass by seeded noise (so that every term of an update shows)."""
    g = torch.Generator().manual_seed(seed)
    return t + 0.3 * torch.randn(t.shape, generator=g, dtype=t.dtype)


def _grad(fn, *tensors: torch.Tensor) -> list[torch.Tensor]:  # type: ignore[no-untyped-def]
    leaves = [t.detach().clone().requires_grad_(True) for t in tensors]
    return list(torch.autograd.grad(fn(*leaves), leaves))


def test_conforms() -> None:
    zoo.testing.check_method("log-pbcd")


def test_paper_sizes() -> None:
    config = paper()
    assert config.widths == (784, 500, 500, 10)
    assert (config.lam, config.eps, config.rho, config.delta) == (3e-6, 1e-3, 1.7, 1.0)
    net = zoo.build("log-pbcd-paper")
    assert sum(p.numel() for p in net.parameters()) == 784 * 500 + 500 + 500 * 500 + 500 + 500 * 10 + 10
    with pytest.raises(ConfigError):
        LogPBCDConfig(hidden=())


def test_weight_and_bias_updates_solve_their_proximal_subproblems() -> None:
    config, net, x, y = _small()
    state = init_state(net, x, y)
    W, b = net.layers[0].weight, net.layers[0].bias
    W0, b0, Z, A = W.detach().clone(), b.detach().clone(), state.Z[1] + 0.3, state.A[0]
    with torch.no_grad():
        update_weights(W, b, Z, A, config.rho, config.delta)
    # Eq. 5: rho/2 ||Z - W A - B||^2 + delta/2 ||W - W0||^2 is stationary at the new W (with the old B)
    (gw,) = _grad(lambda w: config.rho / 2 * (Z - w @ A - b0[:, None]).pow(2).sum()
                  + config.delta / 2 * (w - W0).pow(2).sum(), W.detach())
    assert gw.abs().max() < 1e-9
    # Eq. 6 (B with identical columns): stationary in b given the new W
    (gb,) = _grad(lambda v: config.rho / 2 * (Z - W.detach() @ A - v[:, None]).pow(2).sum()
                  + config.delta / 2 * A.shape[1] * (v - b0).pow(2).sum(), b.detach())
    assert gb.abs().max() < 1e-9


def test_z_update_is_the_relu_prox_of_the_averaged_target() -> None:
    config, net, x, y = _small()
    state = init_state(net, x, y)
    W, b, A_prev, A = net.layers[0].weight, net.layers[0].bias, state.A[0], state.A[1] + 0.1
    Z = _off_forward(state.Z[1], 1)  # off the forward pass, else S = Z whatever the weights
    S = (config.delta * Z + config.rho * (W @ A_prev + b[:, None])) / (config.rho + config.delta)
    torch.testing.assert_close(update_z(Z, A, W, b, A_prev, config),
                               relu_prox(A, S, (config.rho + config.delta) / config.gamma))


def test_sparse_a_update_is_a_gradient_step_then_log_thresholding() -> None:
    config, net, x, y = _small()
    state = init_state(net, x, y)
    Wn, bn = net.layers[1].weight, net.layers[1].bias
    # blocks off the forward pass: on it the smooth part's gradient is 0 and the step would not show
    A, Z, Zn = state.A[1] + 0.2, _off_forward(state.Z[1], 2), _off_forward(state.Z[2], 3)

    def smooth(a: torch.Tensor) -> torch.Tensor:
        return config.gamma / 2 * (a - torch.relu(Z)).pow(2).sum() \
            + config.rho / 2 * (Zn - Wn @ a - bn[:, None]).pow(2).sum()

    (grad,) = _grad(smooth, A)
    expected = log_threshold(A - grad / config.delta, config.lam / config.delta, config.eps)
    torch.testing.assert_close(update_sparse_a(A, Z, Wn, bn, Zn, config), expected)


def test_last_hidden_and_output_updates_are_stationary() -> None:
    config, net, x, y = _small()
    state = init_state(net, x, y)
    A, Z, Wo, bo, Zo = state.A[2], state.Z[2], net.layers[2].weight, net.layers[2].bias, state.Z[3]
    new = update_last_a(A, Z, Wo, bo, Zo, config)
    (g,) = _grad(lambda a: config.gamma / 2 * (a - torch.relu(Z)).pow(2).sum()
                 + config.rho / 2 * (Zo - Wo @ a - bo[:, None]).pow(2).sum()
                 + config.delta / 2 * (a - A).pow(2).sum(), new)
    assert g.abs().max() < 1e-9
    z_new = update_output_z(Zo, Wo, bo, A, state.Y, config)
    (g,) = _grad(lambda z: config.beta / 2 * (z - Wo @ A - bo[:, None]).pow(2).sum()
                 + config.alpha / 2 * (z - state.Y).pow(2).sum() + config.delta / 2 * (z - Zo).pow(2).sum(), z_new)
    assert g.abs().max() < 1e-9


def test_log_regulariser_makes_activations_exactly_sparse_and_lam_zero_does_not() -> None:
    data = zoo.make_data(zoo.build("log-pbcd-tiny"), "digits", "train")
    x, y = data.tensors[0][:300], data.tensors[1][:300]
    sparsity = {}
    for lam in (3e-6, 0.0):
        torch.manual_seed(0)
        net = LogPBCDNet(dataclasses.replace(tiny(), lam=lam))
        state = init_state(net, x, y)
        for _ in range(3):
            sweep(net, state)
        sparsity[lam] = activation_sparsity(state)
        assert objective(net, state) < 1e6
    assert sparsity[3e-6] > 0.2 and sparsity[0.0] < 0.01  # exact zeros come from the log threshold


def test_beats_full_batch_sgd_on_digits_as_the_paper_claims() -> None:
    """Paper Table 1: LOG-PBCD above SGD (lr 0.1, full batch) after the same iterations; here 12 on digits."""
    model = zoo.build("log-pbcd-tiny")
    train_set, test_set = zoo.make_data(model, "digits", "train"), zoo.make_data(model, "digits", "test")
    config = model.zoo.config
    result = train(model, (train_set, test_set), config, TrainOptions(steps=12, progress=False))
    sgd = zoo.build("log-pbcd-tiny")  # the same initial weights (seed 0)
    sgd_baseline(sgd, train_set, 12, config.sgd_lr)
    assert result.metrics["test_accuracy"] > 0.8
    assert result.metrics["test_accuracy"] > accuracy(sgd, test_set) + 0.2
    assert len(result.history["loss"]) == 12 and result.metrics["sparsity"] > 0
