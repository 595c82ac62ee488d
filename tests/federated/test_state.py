"""Client state across rounds: persistent optimiser state (and its reset option), learning-rate schedules,
checkpoints, local parameters that stay local, and a client store that materialises only the round's clients."""
from __future__ import annotations

import copy
import math

import pytest
import torch

from zoo.engines import federated as fl
from zoo.errors import FederatedError


def _one_client_adam(h, state: str, rounds: int = 2) -> fl.FederatedSimulator:
    data = h.quadratic([2.0], [1.0])  # f(w) = (w - 1)^2, gradient 2 (w - 1)
    recipe = fl.LocalRecipe(steps=1, batch_size=1, lr=0.1, optimizer="adam", optimizer_state=state)  # type: ignore[arg-type]
    sim = fl.FederatedSimulator(h.Scalar(1.05), h.quad_loss, data, recipe=recipe)
    sim.run(rounds)
    return sim


def test_adam_state_persists_across_rounds_by_hand(h) -> None:
    """One local Adam step per round: round 2 must use round 1's moments (a fresh Adam would step lr * sign(g))."""
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    w0 = 1.05  # overshoots the optimum: the gradient flips sign, so the moments matter
    g0 = 2 * (w0 - 1)
    w1 = w0 - lr * g0 / (abs(g0) + eps)  # first Adam step: m_hat / sqrt(v_hat) = sign(g)
    g1 = 2 * (w1 - 1)
    m = b1 * (1 - b1) * g0 + (1 - b1) * g1
    v = b2 * (1 - b2) * g0**2 + (1 - b2) * g1**2
    m_hat, v_hat = m / (1 - b1**2), v / (1 - b2**2)
    w2 = w1 - lr * m_hat / (math.sqrt(v_hat) + eps)
    persist = _one_client_adam(h, "persist")
    assert persist.global_vec.item() == pytest.approx(w2, abs=1e-6)
    reset = _one_client_adam(h, "reset")
    assert reset.global_vec.item() == pytest.approx(w1 - lr * g1 / (abs(g1) + eps), abs=1e-6)
    assert abs(w2 - (w1 + lr)) > 0.05  # the two really differ
    state = persist.optimizer_state(0)
    assert float(state["t"].reshape(-1)[0]) == 2 and "m" in state and "v" in state
    assert reset.optimizer_state(0) == {}


def test_sgd_momentum_buffer_persists(h) -> None:
    data = h.quadratic([2.0], [1.0])
    recipe = fl.LocalRecipe(steps=1, batch_size=1, lr=0.1, momentum=0.5)
    sim = fl.FederatedSimulator(h.Scalar(3.0), h.quad_loss, data, recipe=recipe)
    sim.run(2)
    g0 = 4.0
    w1 = 3.0 - 0.1 * g0
    g1 = 2 * (w1 - 1)
    assert sim.global_vec.item() == pytest.approx(w1 - 0.1 * (0.5 * g0 + g1), abs=1e-6)


@pytest.mark.parametrize(("schedule", "unit", "factors"), [
    ("sqrt", "step", [1.0, 1.0, 1 / math.sqrt(2), 1 / math.sqrt(3)]),   # LambdaLR 1/sqrt(t), t steps taken
    ("linear", "step", [1.0, 1.0, 1 / 2, 1 / 3]),
    ("exp", "round", [1.0, 0.5, 0.25, 0.125]),
])
def test_learning_rate_schedules_by_hand(h, schedule: str, unit: str, factors: list[float]) -> None:
    """Plain SGD on f(w) = (w - 1)^2 with one step per round: w <- w - lr_t * 2 (w - 1)."""
    data = h.quadratic([2.0], [1.0])
    recipe = fl.LocalRecipe(steps=1, batch_size=1, lr=0.1, lr_schedule=schedule, lr_decay=0.5,  # type: ignore[arg-type]
                            schedule_unit=unit)  # type: ignore[arg-type]
    sim = fl.FederatedSimulator(h.Scalar(3.0), h.quad_loss, data, recipe=recipe)
    w = 3.0
    for f in factors:
        sim.round()
        w = w - 0.1 * f * 2 * (w - 1)
        assert sim.global_vec.item() == pytest.approx(w, abs=1e-6)


def test_step_schedule_counts_each_clients_own_steps(h) -> None:
    """Two local steps per round: the sqrt factor of step 3 (t = 2) is 1/sqrt(2) in round 2."""
    data = h.quadratic([2.0], [1.0])
    recipe = fl.LocalRecipe(steps=2, batch_size=1, lr=0.1, lr_schedule="sqrt")
    sim = fl.FederatedSimulator(h.Scalar(3.0), h.quad_loss, data, recipe=recipe)
    sim.run(2)
    w = 3.0
    for t in range(4):
        w -= 0.1 * (1 / math.sqrt(t) if t > 0 else 1.0) * 2 * (w - 1)
    assert sim.global_vec.item() == pytest.approx(w, abs=1e-6)


def test_checkpoint_resumes_exactly(h, tmp_path) -> None:
    """Adam + SCAFFOLD-like client state + error-feedback codec: 2 rounds, save, load, 2 more == 4 straight."""
    data = h.federation(4)
    recipe = fl.LocalRecipe(steps=2, batch_size=8, lr=0.05, optimizer="adam")
    kw = dict(recipe=recipe, sampler=fl.UniformFraction(0.5), uplink=fl.ErrorFeedback(fl.TopK(0.2)), seed=3)
    straight = fl.FederatedSimulator(h.mlp(), h.ce, data, **kw)
    straight.run(4)
    first = fl.FederatedSimulator(h.mlp(), h.ce, data, **kw)
    first.run(2)
    first.save(tmp_path / "ckpt")
    resumed = fl.FederatedSimulator(h.mlp(seed=9), h.ce, data, **kw)  # other initial weights: all come from disk
    resumed.load(tmp_path / "ckpt")
    assert resumed.round_idx == 2 and len(resumed.history.rounds) == 2
    resumed.run(2)
    assert torch.equal(resumed.global_vec, straight.global_vec)
    for k in range(4):
        a, b = resumed.raw_client_state(k), straight.raw_client_state(k)
        assert set(a) == set(b) and all(torch.equal(a[key], b[key]) for key in a)
    assert any(key.startswith("up.") for key in straight.raw_client_state(straight.history.rounds[0].clients[0]))
    with pytest.raises(FederatedError, match="num_clients"):
        fl.FederatedSimulator(h.mlp(), h.ce, h.federation(3), **kw).load(tmp_path / "ckpt")


def test_decentralised_checkpoint_resumes_exactly(h, tmp_path) -> None:
    kw = dict(recipe=fl.LocalRecipe(steps=1, batch_size=8, lr=0.05, optimizer="adam"), seed=1)
    straight = fl.DecentralizedSimulator(h.mlp(), h.ce, h.federation(4), fl.ring(4), **kw)
    straight.run(3)
    first = fl.DecentralizedSimulator(h.mlp(), h.ce, h.federation(4), fl.ring(4), **kw)
    first.run(1)
    first.save(tmp_path / "dec")
    resumed = fl.DecentralizedSimulator(h.mlp(seed=5), h.ce, h.federation(4), fl.ring(4), **kw)
    resumed.load(tmp_path / "dec")
    resumed.run(2)
    assert torch.equal(resumed.live, straight.live)


def test_local_parameters_are_never_uploaded_counted_or_averaged(h) -> None:
    init = h.mlp()
    sim = fl.FederatedSimulator(copy.deepcopy(init), h.ce, h.federation(3), recipe=fl.LocalRecipe(steps=3, lr=0.3),
                                roles={"2": "local"})
    rec = sim.run(2).rounds[-1]
    layout = sim.layout
    p_shared = layout.count("aggregate")
    assert p_shared < layout.numel
    assert rec.bytes_up == 3 * 4 * p_shared and rec.bytes_down == 3 * 4 * p_shared
    local = layout.indices("local")
    start = fl.flatten(init)
    assert torch.equal(sim.global_vec[local], start[local])  # the server never saw a head
    heads = torch.stack([sim.client_model(k)[local] for k in range(3)])
    assert not torch.allclose(heads[0], heads[1]) and not torch.allclose(heads[0], start[local])
    assert torch.equal(sim.raw_client_state(1)["local"], heads[1].cpu())  # kept per client, only the head


def test_frozen_parts_are_held_once_not_per_client(h) -> None:
    model = h.mlp()
    sim = fl.FederatedSimulator(model, h.ce, h.federation(4), recipe=fl.LocalRecipe(steps=1),
                                roles={"0": "frozen"})
    sim.run(1)
    per_client = [sum(v.numel() for v in sim.raw_client_state(k).values()) for k in range(4)]
    assert per_client == [0, 0, 0, 0]  # plain SGD, no local part: nothing is stored per client
    assert sim.history.rounds[0].bytes_up == 4 * 4 * sim.layout.count("aggregate")


def test_only_the_rounds_clients_are_materialised(h, tmp_path) -> None:
    n = 40
    ds = h.blobs(4 * n)
    data = fl.FederatedData.partitioned(ds, fl.iid(4 * n, n, 0))
    recipe = fl.LocalRecipe(steps=1, batch_size=4, optimizer="adam")
    mem = fl.FederatedSimulator(h.mlp(), h.ce, data, recipe=recipe, sampler=fl.UniformFraction(0.1))
    disk = fl.FederatedSimulator(h.mlp(), h.ce, data, recipe=recipe, sampler=fl.UniformFraction(0.1),
                                 store=fl.DiskStore(tmp_path / "store", n))
    mem.run(2)
    disk.run(2)
    touched = sorted({c for r in mem.history.rounds for c in r.clients})
    assert mem.store.clients() == touched and disk.store.clients() == touched and len(touched) <= 8
    assert torch.equal(mem.global_vec, disk.global_vec)
    for k in touched:
        a, b = mem.raw_client_state(k), disk.raw_client_state(k)
        assert all(torch.equal(a[key], b[key]) for key in a)
    assert disk.store.disk_bytes() < 2 * disk.store.nbytes() + 64 * 1024  # sparse: untouched rows take no space
