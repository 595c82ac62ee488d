"""Decentralised hooks: several gossip steps per round, per-node robust combiners, Byzantine nodes (sign flip,
Gaussian, ALIE) and stateful codecs on gossip."""
from __future__ import annotations

import pytest
import torch

from zoo.engines import federated as fl


class Frozen(fl.LocalRule):
    """No local progress (the gradient is zeroed), so a round is its gossip steps only."""

    def correct(self, ctx, grad):
        return grad * 0


class NoTraining(fl.Algorithm):
    def local_rule(self):
        return Frozen()


def _rows(sim: fl.DecentralizedSimulator, values: list[float]) -> torch.Tensor:
    rows = torch.stack([torch.full((sim.layout.numel,), v) for v in values])
    sim.bank[sim.head] = rows
    return rows


def test_q_gossip_steps_apply_the_mixing_matrix_q_times(h) -> None:
    topo = fl.ring(4)
    sim = fl.DecentralizedSimulator(h.mlp(), h.ce, h.federation(4), topo, recipe=fl.LocalRecipe(steps=1),
                                    algorithm=NoTraining(), gossip_steps=3)
    x = _rows(sim, [0.0, 1.0, 2.0, 7.0])
    rec = sim.round()
    w = topo.plan(0).weights.to(torch.float32)
    assert torch.allclose(sim.live, w @ w @ w @ x, atol=1e-5)
    assert rec.bytes_up == 3 * 8 * sim.layout.numel * 4  # three steps over 8 directed links
    one = fl.DecentralizedSimulator(h.mlp(), h.ce, h.federation(4), topo, recipe=fl.LocalRecipe(steps=1),
                                    algorithm=NoTraining(), gossip_steps=1)
    _rows(one, [0.0, 1.0, 2.0, 7.0])
    one.round()
    assert torch.allclose(one.live, w @ x, atol=1e-6)

    def spread(t: torch.Tensor) -> float:
        return float(((t - t.mean(0)) ** 2).mean())

    assert spread(sim.live) < spread(one.live) < spread(x)  # more gossip steps, closer to consensus


def test_node_combiner_and_byzantine_sign_flip_by_hand(h) -> None:
    """Complete graph of 3; models 0, 1, 10. Median at every node -> 1. Node 2 flips its sign (sends -10): node 0
    takes median(0, 1, -10) = 0, node 1 median(1, 0, -10) = 0, node 2 median(10, 0, 1) = 1."""
    def sim(**kw):
        s = fl.DecentralizedSimulator(h.mlp(), h.ce, h.federation(3), fl.complete(3), recipe=fl.LocalRecipe(steps=1),
                                      algorithm=NoTraining(), node_combiner=fl.CoordinateMedian(), **kw)
        _rows(s, [0.0, 1.0, 10.0])
        s.round()
        return s.live[:, 0]

    assert sim().tolist() == [1.0, 1.0, 1.0]
    assert sim(byzantine=fl.Byzantine([2], fl.SignFlip())).tolist() == [0.0, 0.0, 1.0]
    trimmed = fl.TrimmedMean(1).combine(torch.tensor([[0.0], [1.0], [10.0], [-3.0]]), torch.ones(4))
    assert trimmed.item() == pytest.approx(0.5)


def test_alie_and_gaussian_attacks_by_hand(h) -> None:
    s = fl.DecentralizedSimulator(h.mlp(), h.ce, h.federation(4), fl.complete(4), recipe=fl.LocalRecipe(steps=1),
                                  algorithm=NoTraining(), byzantine=fl.Byzantine([3], fl.ALIE(z=1.0)))
    _rows(s, [1.0, 2.0, 3.0, 50.0])
    sent, _ = s.sent_models(0, 0, torch.ones(4, dtype=torch.bool))
    std = (2 / 3) ** 0.5  # population std of 1, 2, 3
    assert torch.allclose(sent[3], torch.full_like(sent[3], 2.0 - std), atol=1e-6)
    assert torch.equal(sent[:3], s.live[:3])
    assert fl.alie_z(10, 2) == pytest.approx(0.2533, abs=1e-3)  # s = 4, Phi^-1(6 / 10)
    gauss = fl.Byzantine([0], fl.GaussianAttack(sigma=2.0), seed=1)
    x = torch.zeros(3, 1000)
    a, b = gauss.apply([0, 1, 2], x, round_idx=0), gauss.apply([0, 1, 2], x, round_idx=0)
    assert torch.equal(a, b) and a[0].std().item() == pytest.approx(2.0, rel=0.1) and a[1:].abs().sum() == 0
    assert not torch.equal(a, gauss.apply([0, 1, 2], x, round_idx=1))


def test_median_holds_where_plain_gossip_collapses_under_attack(h) -> None:
    """5 nodes on a complete graph, node 4 sends Gaussian noise (sigma 50) every step: the honest nodes' average
    model stays accurate with coordinate-wise median gossip and collapses with linear gossip. (A sign flip of a
    whole tanh MLP barely changes its predictions, so noise is the attack here.)"""
    ds = h.blobs(250, seed=3)
    data = fl.FederatedData.partitioned(ds, fl.iid(250, 5, 0))
    accs = {}
    for name, combiner in (("linear", None), ("median", fl.CoordinateMedian())):
        sim = fl.DecentralizedSimulator(h.mlp(), h.ce, data, fl.complete(5), node_combiner=combiner,
                                        recipe=fl.LocalRecipe(steps=3, batch_size=16, lr=0.2),
                                        byzantine=fl.Byzantine([4], fl.GaussianAttack(50.0)))
        sim.run(6)
        model = sim.model_with(sim.average_vector())  # honest nodes only (Byzantine lambda = 0)
        accs[name] = float((model(ds.tensors[0]).argmax(1) == ds.tensors[1]).float().mean())
    assert accs["median"] > 0.85 and accs["linear"] < accs["median"] - 0.3


def test_error_feedback_codec_on_gossip_keeps_per_node_residuals(h) -> None:
    sim = fl.DecentralizedSimulator(h.mlp(), h.ce, h.federation(4), fl.ring(4), recipe=fl.LocalRecipe(steps=1),
                                    codec=fl.ErrorFeedback(fl.TopK(0.25, per_layer=True)))
    rec = sim.round()
    layout = sim.layout
    kept = sum(max(1, round(0.25 * (b - a))) for _, a, b in layout.segments())
    assert rec.bytes_up == 8 * kept * 8  # 8 links, values + indices of the kept entries of every layer
    residuals = [sim.node_state(k)["gossip.model.residual"] for k in range(4)]
    assert all(r.shape == (layout.wire_size,) and r.abs().sum() > 0 for r in residuals)
