"""The local-learning engine: execution modes (a)-(e), multi-input layers, loss-weight schedules, memory."""
from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from zoo.engines.local_learning import (
    LocalNet,
    LossWeightSchedule,
    ModuleOptimizers,
    local_backward_fn,
    local_forward_backward,
    local_step,
    measure_training_memory,
    per_module_optimizers,
)
from zoo.engines.local_learning.forward_forward import forward_forward_loss, forward_forward_step, layer_goodness
from zoo.engines.local_learning.forward_only import (
    Forward,
    LocalLoss,
    RandomTargetProjection,
    forward_only_step,
    soft_hebbian_delta,
)
from zoo.engines.trainer import Recipe, StopTraining, fit
from zoo.errors import ConfigError, TrainingError
from zoo.options import TrainOptions


class _Aux(nn.Module):
    """A linear auxiliary classifier."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.fc = nn.Linear(width, 3)

    def forward(self, h: torch.Tensor, x_in: Any, target: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        return F.cross_entropy(self.fc(h), target), {}


def _mlp_net(seed: int = 0, depth: int = 4, width: int = 16) -> LocalNet:
    torch.manual_seed(seed)
    layers = [nn.Sequential(nn.Linear(6 if i == 0 else width, width), nn.ReLU()) for i in range(depth)]
    return LocalNet(layers, nn.Linear(width, 3), tuple(range(1, depth + 1)), [_Aux(width) for _ in range(depth - 1)])


def _data(n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 6, generator=g)
    return x, (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()


def _opts(out: Path | None = None, **kw: Any) -> TrainOptions:
    return TrainOptions(out_dir=str(out) if out else None, progress=False, seed=0, **kw)


def test_mode_a_through_the_trainer_equals_the_reference_step() -> None:
    net, ref = _mlp_net(), _mlp_net()
    x, y = _data()
    recipe = Recipe(steps=4, batch_size=64, lr=0.1, optimizer="sgd", momentum=0.0, shuffle=False)
    fit(net, (x, y), None, recipe, _opts(), backward_fn=local_backward_fn("local"))
    opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    for _ in range(4):
        local_step(ref, (x, y), opt)
    for a, b in zip(net.parameters(), ref.parameters()):
        torch.testing.assert_close(a, b)


def test_mode_a_isolates_modules() -> None:
    net = _mlp_net()
    x, y = _data()
    local_forward_backward(net, x, y)
    for k in range(net.num_modules - 1):
        fresh = _mlp_net()
        with torch.no_grad():
            h = x
            for layer in fresh.layers[:k]:
                h = layer(h)
        loss, _ = fresh.aux[k](fresh.layers[k](h), x, y)
        loss.backward()
        for p, q in zip(net.layers[k].parameters(), fresh.layers[k].parameters()):
            torch.testing.assert_close(p.grad, q.grad)


def test_mode_e_is_plain_backprop_on_the_same_model() -> None:
    net = _mlp_net()
    plain = copy.deepcopy(net)
    x, y = _data()
    local_forward_backward(net, x, y, detach=False)
    F.cross_entropy(plain(x), y).backward()
    for p, q in zip(net.layers.parameters(), plain.layers.parameters()):
        torch.testing.assert_close(p.grad, q.grad)
    assert all(p.grad is None for p in net.aux.parameters())  # auxiliary networks unused


def test_mode_b_steps_each_module_after_its_backward_and_resumes_exactly(tmp_path: Path) -> None:
    x, y = _data()
    recipe = Recipe(steps=6, batch_size=16, lr=0.05, schedule="cosine")

    def make(net: LocalNet) -> ModuleOptimizers:
        return per_module_optimizers(net, lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9))

    seen: list[float] = []

    def spy(model: LocalNet, batch: Any, tools: Any) -> dict[str, float]:
        before = model.layers[0][0].weight.detach().clone()
        logs = local_backward_fn("per_module")(model, batch, tools)
        seen.append(float((model.layers[0][0].weight.detach() - before).norm()))
        return logs

    straight = _mlp_net()
    fit(straight, (x, y), None, recipe, _opts(tmp_path / "a"), optimizer=make(straight), backward_fn=spy)
    assert all(s > 0 for s in seen)
    def crash(event: str, state: dict[str, Any]) -> None:
        if event == "on_checkpoint" and state["step"] == 3:
            raise StopTraining

    first = _mlp_net()
    fit(first, (x, y), None, recipe, _opts(tmp_path / "b", checkpoint_every=3), optimizer=make(first),
        backward_fn=local_backward_fn("per_module"), callbacks=[crash])
    resumed = _mlp_net(seed=5)  # a fresh process: other weights until the checkpoint is loaded
    fit(resumed, (x, y), None, recipe, _opts(tmp_path / "b", resume=True), optimizer=make(resumed),
        backward_fn=local_backward_fn("per_module"))
    for a, b in zip(straight.parameters(), resumed.parameters()):
        assert torch.equal(a, b)
    with pytest.raises(ConfigError, match="ModuleOptimizers"):
        fit(_mlp_net(), (x, y), None, recipe, _opts(), backward_fn=local_backward_fn("per_module"))


def test_module_optimizers_follow_the_schedule() -> None:
    net = _mlp_net()
    opts = per_module_optimizers(net, lambda ps: torch.optim.SGD(ps, lr=0.2))
    fit(net, _data(), None, Recipe(steps=4, batch_size=8, lr=0.2, schedule="cosine"), _opts(), optimizer=opts,
        backward_fn=local_backward_fn("per_module"))
    expected = 0.2 * 0.5 * (1 + math.cos(math.pi * 4 / 4))
    assert all(g["lr"] == pytest.approx(expected) for opt in opts for g in opt.param_groups)


def test_local_losses_are_checked_for_nan() -> None:
    net = _mlp_net()
    with torch.no_grad():
        net.aux[1].fc.weight.fill_(math.nan)
    with pytest.raises(TrainingError, match="local_loss_1 became nan"):
        fit(net, _data(), None, Recipe(steps=1, batch_size=8, lr=0.1), _opts(), backward_fn=local_backward_fn())


class _GraphConv(nn.Module):
    """``relu(A h W)`` with a dense normalised adjacency: a layer with two inputs."""

    def __init__(self, d_in: int, d_out: int) -> None:
        super().__init__()
        self.lin = nn.Linear(d_in, d_out)

    def forward(self, h: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        return torch.relu(adjacency @ self.lin(h))


def test_layers_with_several_inputs_train_through_the_context() -> None:
    torch.manual_seed(0)
    n = 12
    adjacency = torch.eye(n) + torch.diag(torch.ones(n - 1), 1) + torch.diag(torch.ones(n - 1), -1)
    adjacency = adjacency / adjacency.sum(1, keepdim=True)
    x = torch.randn(n, 6)
    y = (torch.arange(n) >= n // 2).long()
    net = LocalNet([_GraphConv(6, 8), _GraphConv(8, 8)], nn.Linear(8, 3), (1, 2), [_Aux(8)])
    calls: list[int] = []
    original = net.layers[1].forward
    net.layers[1].forward = lambda h, a: (calls.append(a.shape[0]), original(h, a))[1]  # type: ignore[method-assign]
    local_forward_backward(net, x, y, context=(adjacency,))
    assert calls == [n] and net.layers[0].lin.weight.grad is not None
    dataset = [(x, y, adjacency)]  # one graph per "batch"
    fit(net, dataset, None, Recipe(steps=2, batch_size=1, lr=0.1),
        _opts(), collate=lambda items: items[0],
        backward_fn=local_backward_fn("local", split=lambda b: (b[0], b[1], (b[2],))))
    assert net(x, adjacency).shape == (n, 3)


def test_loss_weight_schedules_by_module_and_by_stage() -> None:
    by_module = LossWeightSchedule(5.0, 0.2, "module")
    assert by_module.weights(16)[0] == 5.0 and by_module.weights(16)[-1] == pytest.approx(0.2)
    by_stage = LossWeightSchedule(5.0, 0.0, "stage")
    assert by_stage.weights(16, [1] * 5 + [2] * 5 + [3] * 5)[-1] == pytest.approx(5.0 * (1 - 3 / 14))
    assert LossWeightSchedule(1.0, 9.0, "constant").weights(4) == [1.0, 1.0, 1.0]
    with pytest.raises(ConfigError, match="placement"):
        LossWeightSchedule(1.0, 0.0, "depth")


def test_per_module_loss_weights_scale_each_local_gradient() -> None:
    x, y = _data()
    plain, weighted = _mlp_net(), _mlp_net()
    weights = LossWeightSchedule(2.0, 0.5, "module").weights(weighted.num_modules)
    weighted.loss_weights = weights
    local_forward_backward(plain, x, y)
    local_forward_backward(weighted, x, y)
    for k, w in enumerate(weights):
        torch.testing.assert_close(weighted.layers[k][0].weight.grad, w * plain.layers[k][0].weight.grad)
    torch.testing.assert_close(weighted.head.weight.grad, plain.head.weight.grad)  # the task loss is not weighted
    with pytest.raises(ConfigError, match="loss weights"):
        LocalNet([nn.Linear(2, 2), nn.Linear(2, 2)], nn.Identity(), (1, 2), [_Aux(2)], loss_weights=[1.0, 2.0])


# ----------------------------------------------------------------------------------------- (c) forward-only


def test_forward_only_trains_each_layer_on_a_detached_input() -> None:
    torch.manual_seed(0)
    layers = nn.ModuleList([nn.Sequential(nn.Linear(6, 16), nn.Sigmoid()), nn.Linear(16, 3)])
    projection = RandomTargetProjection(3, (16,), seed=1, squash="sigmoid")
    rules = [LocalLoss(lambda out, inp, y: F.mse_loss(out, projection(y))),
             LocalLoss(lambda out, inp, y: F.cross_entropy(out, y))]
    inputs: list[torch.Tensor] = []
    for layer in layers:
        layer.register_forward_pre_hook(lambda m, args: inputs.append(args[0]))
    opts = [torch.optim.SGD(layer.parameters(), lr=2.0) for layer in layers]
    grads_seen: list[list[bool]] = []

    def backward(loss: torch.Tensor, name: str) -> None:
        loss.backward()
        grads_seen.append([p.grad is not None for layer in layers for p in layer.parameters()])

    x, y = _data()
    forward_only_step(layers, x, y, rules, backward=backward, step=lambda k: opts[k].step())
    assert all(not t.requires_grad and t.grad_fn is None for t in inputs)  # no graph spans two layers
    assert grads_seen == [[True, True, False, False], [True, True, True, True]]
    for _ in range(300):
        for opt in opts:
            opt.zero_grad()
        forward_only_step(layers, x, y, rules, step=lambda k: opts[k].step())
    with torch.no_grad():
        assert float((layers[1](layers[0](x)).argmax(1) == y).float().mean()) > 0.8  # chance: 0.4


def test_forward_only_refuses_an_input_that_carries_a_graph() -> None:
    leaky = nn.Linear(6, 6)
    with pytest.raises(ConfigError, match="autograd graph"):
        forward_only_step([nn.Identity(), nn.Linear(6, 3)], leaky(_data()[0]), _data()[1], [None, None])


def test_random_target_projection_is_fixed_and_seeded() -> None:
    a, b = RandomTargetProjection(3, (2, 4), seed=7), RandomTargetProjection(3, (2, 4), seed=7)
    y = torch.tensor([0, 2])
    assert torch.equal(a(y), b(y)) and a(y).shape == (2, 2, 4)
    assert torch.equal(a(y)[1].flatten(), a.matrix[:, 2])  # target = P onehot(y)
    assert not a.matrix.requires_grad and "matrix" in dict(a.named_buffers())


def test_soft_hebbian_delta_by_hand() -> None:
    w = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    x = torch.tensor([[2.0, 0.0]])
    u = torch.tensor([2.0, 0.0])
    y = torch.softmax(u, 0)
    expected = torch.stack([y[0] * (x[0] - u[0] * w[0]), y[1] * (x[0] - u[1] * w[1])])
    torch.testing.assert_close(soft_hebbian_delta(w, x), expected)
    layer = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        layer.weight.copy_(w)
    rule = Forward(lambda m, inp, out: m.weight.add_(0.1 * soft_hebbian_delta(m.weight, inp)))
    forward_only_step([layer], x, None, [rule])
    torch.testing.assert_close(layer.weight, w + 0.1 * expected)


# ----------------------------------------------------------------------------------------- (d) forward-forward


def test_forward_forward_loss_by_hand() -> None:
    h_pos, h_neg = torch.tensor([[1.0, 1.0]]), torch.tensor([[2.0, 0.0]])
    theta = 2.0
    expected = math.log1p(math.exp(-(2.0 - theta))) + math.log1p(math.exp(4.0 - theta))
    assert float(forward_forward_loss(h_pos, h_neg, theta)) == pytest.approx(expected)


def test_forward_forward_separates_positive_from_negative_data() -> None:
    torch.manual_seed(0)
    x, y = _data(128)
    onehot = F.one_hot(y, 3).float()
    wrong = F.one_hot((y + 1 + torch.randint(0, 2, y.shape)) % 3, 3).float()
    pos, neg = torch.cat([x, 3 * onehot], 1), torch.cat([x, 3 * wrong], 1)
    layers = nn.ModuleList([nn.Sequential(nn.Linear(9, 32), nn.ReLU()), nn.Sequential(nn.Linear(32, 32), nn.ReLU())])
    opts = [torch.optim.Adam(layer.parameters(), lr=0.03) for layer in layers]
    inputs: list[torch.Tensor] = []
    layers[1].register_forward_pre_hook(lambda m, args: inputs.append(args[0]))
    first = None
    for _ in range(60):
        for opt in opts:
            opt.zero_grad()
        logs = forward_forward_step(layers, pos, neg, theta=2.0, step=lambda k: opts[k].step())
        first = first or logs
    assert logs["ff_loss_0"] < 0.5 * first["ff_loss_0"]
    assert all(t.grad_fn is None for t in inputs)
    norms = inputs[-1].norm(dim=-1)
    assert torch.allclose(norms[norms > 0], torch.ones(int((norms > 0).sum())), atol=1e-5)  # length-normalised
    scores = torch.stack([sum(layer_goodness(layers, torch.cat([x, 3 * F.one_hot(torch.full_like(y, c), 3).float()],
                                                               1), 2.0)) for c in range(3)], 1)
    assert float((scores.argmax(1) == y).float().mean()) > 0.8


# ----------------------------------------------------------------------------------------- memory


def test_training_memory_adds_parameters_gradients_and_optimizer_state() -> None:
    net = _mlp_net(depth=6, width=64)
    x, y = _data(256)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        local_forward_backward(net, x, y)
        opt.step()

    memory = measure_training_memory(net, step, [opt])
    param_bytes = sum(p.numel() * 4 for p in net.parameters())
    assert memory.parameters == param_bytes and memory.gradients == param_bytes
    assert memory.optimizer_state == param_bytes  # one momentum buffer per parameter
    assert memory.cpu_total == memory.activations + 3 * param_bytes and memory.cuda_peak is None

    def bp_step() -> None:
        opt.zero_grad(set_to_none=True)
        local_forward_backward(net, x, y, detach=False)
        opt.step()

    bp = measure_training_memory(net, bp_step, [opt])
    assert memory.activations < 0.6 * bp.activations and memory.cpu_total < bp.cpu_total
