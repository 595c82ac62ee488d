"""tpSGD: the local update is the delta rule towards a fixed random projection, no graph spans two layers, the
projections never change, and the paper's "within 5 % of BP" on real digits."""
from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import torch
from torch import nn

import zoo
import zoo.testing
from zoo.engines.local_learning.forward_only import forward_only_step
from zoo.errors import ConfigError
from zoo.options import TrainOptions
from zoo_plugins.tpsgd.config import TpSGDConfig, paper, tiny
from zoo_plugins.tpsgd.losses import hidden_rule, target_loss
from zoo_plugins.tpsgd.model import ElmanRNN, TpSGDNet
from zoo_plugins.tpsgd.train import accuracy, train


def test_conforms() -> None:
    zoo.testing.check_method("tpsgd")


def test_paper_sizes() -> None:
    net = zoo.build("tpsgd-paper")
    assert [m.in_features for m in net.modules() if isinstance(m, nn.Linear)] == [784, 500, 500]
    assert sum(p.numel() for p in net.parameters()) == 784 * 500 + 500 + 500 * 500 + 500 + 500 * 10 + 10
    assert [p.shape for p in net.projections] == [(500,), (500,)]
    assert [tuple(p.matrix.shape) for p in net.projections] == [(500, 10), (500, 10)]
    assert paper().rule == "tpsgd"
    with pytest.raises(ConfigError, match="architecture"):
        TpSGDConfig(arch="transformer")


@pytest.mark.parametrize("kind", ["l2", "l1"])
def test_one_update_is_the_delta_rule_towards_the_projected_target(kind: str) -> None:
    torch.manual_seed(0)
    net = TpSGDNet(dataclasses.replace(tiny(), hidden=(5,), local_loss=kind))
    layer, projection = net.layers[0], net.projections[0]
    x, y = torch.rand(3, 64), torch.tensor([1, 4, 7])
    W0, b0 = layer[0].weight.detach().clone(), layer[0].bias.detach().clone()
    out = torch.tanh(x @ W0.T + b0)
    target = projection(y)
    assert torch.equal(target, torch.tanh(nn.functional.one_hot(y, 10).float() @ projection.matrix.T))
    error = (target - out) if kind == "l2" else torch.sign(target - out)
    delta = error * (1 - out ** 2)  # tanh'
    eta = 0.1
    opt = torch.optim.SGD(layer.parameters(), lr=eta)
    forward_only_step([layer], x, y, [hidden_rule(projection, kind)], step=lambda k: opt.step())
    torch.testing.assert_close(layer[0].weight, W0 + eta * delta.T @ x / 3)
    torch.testing.assert_close(layer[0].bias, b0 + eta * delta.mean(0))


def test_no_autograd_graph_spans_two_layers_and_projections_stay_fixed() -> None:
    model = zoo.build("tpsgd-cnn")
    inputs: list[torch.Tensor] = []
    for layer in model.layers:
        layer.register_forward_pre_hook(lambda m, args: inputs.append(args[0]))
    frozen = [p.matrix.clone() for p in model.projections]
    data = zoo.make_data(model, "digits", "train")
    zoo.train(model, data, steps=3, progress=False)
    assert len(inputs) == 3 * len(model.layers)
    assert all(t.grad_fn is None and not t.requires_grad for t in inputs)  # each layer sees a detached input
    assert all(torch.equal(a, p.matrix) for a, p in zip(frozen, model.projections))


def test_each_local_loss_reaches_only_its_own_layer() -> None:
    torch.manual_seed(0)
    model = TpSGDNet(tiny())
    from zoo_plugins.tpsgd.losses import output_rule

    rules = [hidden_rule(p, "l2") for p in model.projections] + [output_rule()]
    reached: list[list[int]] = []

    def backward(loss: torch.Tensor, name: str) -> None:
        grads = torch.autograd.grad(loss, list(model.parameters()), allow_unused=True)
        owners = [i for i, layer in enumerate(model.layers) for _ in layer.parameters()]
        reached.append(sorted({owner for owner, g in zip(owners, grads) if g is not None}))

    x, y = torch.rand(4, 1, 8, 8), torch.tensor([0, 1, 2, 3])
    forward_only_step(model.layers, model.prepare(x), y, rules, backward=backward)
    assert reached == [[0], [1], [2]]


def test_rnn_target_on_the_last_step_or_every_step() -> None:
    out = torch.zeros(2, 3, 4)
    out[:, -1] = 1.0
    target = torch.ones(2, 4)
    assert float(target_loss(out, target, "l2", "last")) == 0.0
    assert float(target_loss(out, target, "l2", "every")) == pytest.approx(0.5 * 4 * 2 / 3)


def test_elman_rnn_is_the_recurrence_and_without_bptt_is_local_in_time() -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 3, 4)
    full, local = ElmanRNN(4, 5, "tanh", bptt=True), ElmanRNN(4, 5, "tanh", bptt=False)
    local.load_state_dict(full.state_dict())
    h, expect = torch.zeros(2, 5), []
    with torch.no_grad():
        for t in range(3):  # h_t = tanh(W_x x_t + b + W_h h_{t-1}), no recurrent bias
            h = torch.tanh(x[:, t] @ full.input.weight.T + full.input.bias + h @ full.recurrent.weight.T)
            expect.append(h)
    for rnn in (full, local):
        out = rnn(x)
        torch.testing.assert_close(out, torch.stack(expect, 1))
        out[:, -1].sum().backward()
    h_last, h_prev = expect[-1], expect[-2]
    one_step = (1 - h_last ** 2).T @ h_prev  # d sum(h_T) / d W_h with h_{T-1} held fixed
    torch.testing.assert_close(local.recurrent.weight.grad, one_step)
    assert not torch.allclose(full.recurrent.weight.grad, one_step, atol=1e-3)  # BPTT reaches earlier steps


def _digits(model: Any) -> tuple[Any, Any]:
    return zoo.make_data(model, "digits", "train"), zoo.make_data(model, "digits", "test")


def test_within_five_points_of_backprop_on_digits() -> None:
    """The paper: "comparably to BP gradient-descent within 5% accuracy" (MLP; CNN and RNN in the README)."""
    accuracies = {}
    for rule in ("tpsgd", "bp"):
        config = dataclasses.replace(tiny(), rule=rule, hidden=(64, 64))
        torch.manual_seed(0)
        model = TpSGDNet(config)
        train_set, test_set = _digits(zoo.build("tpsgd-tiny"))
        train(model, train_set, config, TrainOptions(steps=250, progress=False))
        accuracies[rule] = accuracy(model, test_set)
    assert accuracies["tpsgd"] > 0.9 and accuracies["tpsgd"] > accuracies["bp"] - 0.05, accuracies
