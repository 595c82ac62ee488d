"""Simulators: FedAvg maths, determinism, byte accounting, parameter roles, gossip, time, codecs."""
from __future__ import annotations

import copy

import pytest
import torch

from zoo.engines import federated as fl


def test_fedavg_one_full_batch_step_equals_centralised_gradient_descent(h) -> None:
    ds = h.blobs(90)
    parts = fl.dirichlet(ds.tensors[1].numpy(), 3, 0.5, seed=0, min_size=5)  # unequal client sizes
    data = fl.FederatedData.partitioned(ds, parts)
    model = h.mlp()
    central = copy.deepcopy(model)
    sim = fl.FederatedSimulator(model, h.ce, data, recipe=fl.LocalRecipe(steps=1, batch_size=1000, lr=0.5))
    sim.round()
    loss = h.ce(central, ds.tensors)
    loss.backward()
    with torch.no_grad():
        expected = torch.cat([(p - 0.5 * p.grad).reshape(-1) for p in central.parameters()])
    assert torch.allclose(sim.global_vec, expected, atol=1e-6)


def test_runs_are_deterministic_and_seed_dependent(h) -> None:
    def run(seed: int) -> torch.Tensor:
        sim = fl.FederatedSimulator(h.mlp(), h.ce, h.federation(6), recipe=fl.LocalRecipe(steps=3, batch_size=8),
                                    sampler=fl.UniformFraction(0.5), seed=seed)
        sim.run(3)
        return sim.global_vec

    assert torch.equal(run(0), run(0))
    assert not torch.equal(run(0), run(1))


def test_training_lowers_the_loss_and_evaluates(h) -> None:
    ds = h.blobs(120)
    acc = lambda m: {"acc": float((m(ds.tensors[0]).argmax(1) == ds.tensors[1]).float().mean())}  # noqa: E731
    sim = fl.FederatedSimulator(h.mlp(), h.ce, h.federation(4), recipe=fl.LocalRecipe(steps=5, batch_size=8, lr=0.2),
                                eval_fn=acc)
    hist = sim.run(8, eval_every=4)
    assert hist.rounds[-1].loss < hist.rounds[0].loss
    assert hist.rounds[3].metrics and not hist.rounds[2].metrics
    assert hist.rounds[-1].metrics["acc"] > 0.8
    assert len(hist.series()["acc"]) == 8


def test_byte_accounting_and_codecs(h) -> None:
    sim = fl.FederatedSimulator(h.mlp(), h.ce, h.federation(4), recipe=fl.LocalRecipe(steps=1))
    p = sim.layout.numel
    r = sim.round()
    assert r.bytes_up == 4 * p * 4 and r.bytes_down == 4 * p * 4
    sparse = fl.FederatedSimulator(h.mlp(), h.ce, h.federation(4), recipe=fl.LocalRecipe(steps=1),
                                   uplink=fl.TopK(0.1))
    r2 = sparse.round()
    k = round(0.1 * p)
    assert r2.bytes_up == 4 * k * 8 and r2.bytes_down == r.bytes_down
    assert not torch.equal(sparse.global_vec, sim.global_vec)  # what arrives is the sparsified update
    q = fl.UniformQuantize(8).encode(torch.linspace(-1, 1, 101))
    assert q.nbytes == 101 + 8 and (q.decoded - torch.linspace(-1, 1, 101)).abs().max() <= 1 / 255 + 1e-6


def test_server_momentum_by_hand() -> None:
    agg = fl.ServerMomentum(beta=0.5, server_lr=1.0)
    state: dict[str, torch.Tensor] = {}
    g = torch.zeros(3)
    deltas = torch.tensor([[1.0, 0, 0], [3.0, 0, 0]])
    w = torch.tensor([0.5, 0.5])
    g1 = agg(g, deltas, w, state)
    assert torch.allclose(g1, torch.tensor([2.0, 0, 0]))
    g2 = agg(g1, deltas, w, state)
    assert torch.allclose(g2, torch.tensor([2.0 + 0.5 * 2.0 + 2.0, 0, 0]))


def test_local_and_frozen_parameter_roles(h) -> None:
    init = h.mlp()
    sim = fl.FederatedSimulator(copy.deepcopy(init), h.ce, h.federation(3), recipe=fl.LocalRecipe(steps=3, lr=0.3),
                                roles={"2": "local", "0.bias": "frozen"})
    sim.run(2)
    sl = sim.layout.slices()
    local = slice(sl["2.weight"].start, sl["2.bias"].stop)
    frozen, shared = sl["0.bias"], sl["0.weight"]
    rows = torch.stack([sim.client_model(k) for k in range(3)])
    assert not torch.allclose(rows[0, local], rows[1, local])  # personal heads differ
    start = fl.flatten(init)
    assert torch.equal(sim.global_vec[frozen], start[frozen]) and torch.equal(rows[:, frozen], start[frozen].expand(3, -1))
    assert not torch.equal(sim.global_vec[shared], start[shared])
    assert torch.equal(sim.global_vec[local], start[local])  # local heads are never averaged into the global model


def test_complete_gossip_equals_fedavg(h) -> None:
    data = h.federation(4)  # 30 samples each: n_k weights are uniform
    recipe = fl.LocalRecipe(steps=2, batch_size=8, lr=0.2)
    srv = fl.FederatedSimulator(h.mlp(), h.ce, data, recipe=recipe)
    dec = fl.DecentralizedSimulator(h.mlp(), h.ce, data, fl.complete(4), recipe=recipe)
    srv.run(2)
    dec.run(2)
    assert torch.allclose(dec.live, srv.global_vec.expand(4, -1), atol=1e-6)
    assert torch.allclose(dec.average_vector(), srv.global_vec, atol=1e-6)


def test_gossip_time_bytes_and_lossy_codec(h) -> None:
    net = fl.NetworkModel(torch.full((4,), 0.01), torch.full((4, 4), 0.02), torch.full((4,), 1e6),
                          torch.full((4,), 1e6), model_bits=1.0)
    topo = fl.ring(4)
    dec = fl.DecentralizedSimulator(h.mlp(), h.ce, h.federation(4), topo, recipe=fl.LocalRecipe(steps=1),
                                    network=net)
    r = dec.round()
    p = dec.layout.numel
    assert r.bytes_up == 8 * p * 4  # 8 directed links, one float32 model each
    assert r.sim_time_s == pytest.approx(net.cycle_time(topo.plan(0).strong, model_bits=8 * p * 4))
    q = fl.DecentralizedSimulator(h.mlp(), h.ce, h.federation(4), topo, recipe=fl.LocalRecipe(steps=1),
                                  codec=fl.UniformQuantize(8))
    rq = q.round()
    assert rq.bytes_up == 8 * (p + 8)
    assert torch.isfinite(q.live).all()


def test_multigraph_run_with_delay_recursion_clock_by_hand(h) -> None:
    """Directed 4-ring, 2 edges per link (states: all strong, all weak, ...); every link's base delay is
    u T_c + l + M / O = 0.01 + 0.02 + 1e5 / 1e6 = 0.13 s. The blog recursion gives, round by round:
    k=0 all strong: tau = 0.13; k=1 all weak: d = tau_0 + d_prev = 0.26, tau = u T_c = 0.01;
    k=2 strong after weak: d = max(u T_c, 0.26 - 0.13) = 0.13, tau = 0.13; k=3 weak: tau = 0.01."""
    overlay = fl.ring(4, directed=True).adjacency
    n_edges = torch.where(overlay, torch.tensor(2), torch.tensor(1))
    topo = fl.MultigraphTopology(overlay, n_edges, weak="stale")
    net = fl.NetworkModel(torch.full((4,), 0.01), torch.full((4, 4), 0.02), torch.full((4,), 1e6),
                          torch.full((4,), 1e6), model_bits=1e5)
    rec = fl.DelayRecursion(net, overlay)
    dec = fl.DecentralizedSimulator(h.mlp(), h.ce, h.federation(4), topo, recipe=fl.LocalRecipe(steps=1),
                                    history=1, clock=lambda plan: rec.step(plan.strong))
    hist = dec.run(4)
    assert [r.sim_time_s for r in hist.rounds] == pytest.approx([0.13, 0.01, 0.13, 0.01])
    assert rec.d[1, 0].item() == pytest.approx(0.13 + 0.26)  # after k=3: tau_2 + d_prev
    assert hist.rounds[1].bytes_up == 0  # state 1: every link weak, every node isolated, nothing waited for
    assert hist.rounds[0].bytes_up == 4 * 4 * dec.layout.numel and torch.isfinite(dec.live).all()


def test_star_network_round_time_by_hand(h) -> None:
    """Round time = the slowest client's 2 latency + down + steps * compute + up, the server link shared."""
    star = fl.StarNetwork(torch.tensor([0.01, 0.02]), torch.tensor([0.1, 0.2]), torch.full((2,), 1e9),
                          torch.full((2,), 1e9), server_bps=1e6)
    sim = fl.FederatedSimulator(h.mlp(), h.ce, h.federation(2), recipe=fl.LocalRecipe(steps=3), network=star)
    rec = sim.round()
    p = sim.layout.numel
    share = 1e6 / 2  # two clients share the server's 1 Mbit/s
    client1 = 2 * 0.2 + 8 * 4 * p / share + 3 * 0.02 + 8 * 4 * p / share
    assert rec.sim_time_s == pytest.approx(client1)
