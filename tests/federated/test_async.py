"""The event clock: asynchronous (FedAsync / FedBuff) and anarchic participation, staleness-aware aggregation."""
from __future__ import annotations

import pytest
import torch

from zoo.engines import federated as fl


def _sim(h, **kw) -> fl.AsyncFederatedSimulator:
    clock = fl.EventClock(compute_s=torch.tensor([1.0, 2.0, 3.0]))
    return fl.AsyncFederatedSimulator(h.mlp(), h.ce, h.federation(3), recipe=fl.LocalRecipe(steps=1, batch_size=8),
                                      clock=clock, **kw)


def test_event_order_and_staleness_by_hand(h) -> None:
    """Clients take 1, 2 and 3 s per job and restart at once; the server aggregates every arrival (FedAsync).
    t=1: client 0 (from v0) -> v1. t=2: client 1 (from v0, staleness 1) -> v2, then client 0 (from v1,
    staleness 1) -> v3. t=3: client 2 (from v0, staleness 3) -> v4."""
    sim = _sim(h)
    hist = sim.run(4)
    assert [r.clients for r in hist.rounds] == [[0], [1], [0], [2]]
    assert [r.staleness for r in hist.rounds] == [{0: 0}, {1: 1}, {0: 1}, {2: 3}]
    assert [r.sim_time_s for r in hist.rounds] == pytest.approx([1.0, 1.0, 0.0, 1.0])
    assert sim.now == pytest.approx(3.0)


class Recorder:
    """An aggregator that records the (staleness-weighted) weights it receives."""

    def __init__(self) -> None:
        self.weights: list[torch.Tensor] = []

    def __call__(self, global_vec, deltas, weights, state):
        self.weights.append(weights.clone())
        return fl.WeightedFedAvg()(global_vec, deltas, weights, state)


def test_staleness_weights_by_hand(h) -> None:
    """FedBuff with K = 2 and s(tau) = (1 + tau)^-1; clients 0 and 1 take 1 s per job, client 2 takes 10 s.
    Until t = 10 the fast pair fills the buffer (staleness 0). At t = 10 client 2's job from v0 arrives first
    (staleness 9), then client 0's (staleness 0): weights 1 : 1/10, i.e. 10/11 and 1/11."""
    rec = Recorder()
    alg = fl.Algorithm(aggregator=rec, weighting="uniform", staleness=fl.polynomial_staleness(1.0))
    clock = fl.EventClock(compute_s=torch.tensor([1.0, 1.0, 10.0]))
    sim = fl.AsyncFederatedSimulator(h.mlp(), h.ce, h.federation(3), recipe=fl.LocalRecipe(steps=1, batch_size=8),
                                     clock=clock, algorithm=alg, buffer_size=2)
    hist = sim.run(10)
    assert [r.clients for r in hist.rounds[:9]] == [[0, 1]] * 9 and hist.rounds[9].clients == [0, 2]
    assert all(r.staleness == {0: 0, 1: 0} for r in hist.rounds[:9]) and hist.rounds[9].staleness == {0: 0, 2: 9}
    assert torch.allclose(rec.weights[0], torch.tensor([0.5, 0.5]))
    assert torch.allclose(rec.weights[9], torch.tensor([10 / 11, 1 / 11]))


class ChoosesSteps(fl.Algorithm):
    """Anarchic FL: each client picks how many local steps it takes (here 1 + client id)."""

    def recipe(self, client, round_idx, base, client_state):
        return base.with_(steps=1 + client)


def test_anarchic_clients_join_late_with_their_own_step_counts(h) -> None:
    clock = fl.EventClock(compute_s=torch.full((3,), 0.5))
    kw = dict(recipe=fl.LocalRecipe(steps=1, batch_size=8), clock=clock, algorithm=ChoosesSteps(),
              participation=fl.Anarchic([0.2, 1.0, 4.0]), max_staleness=10)
    sim = fl.AsyncFederatedSimulator(h.mlp(), h.ce, h.federation(3), **kw)
    hist = sim.run(16)
    first = {}
    for r in hist.rounds:
        for c in r.clients:
            first.setdefault(c, r.round)
            assert r.steps[c] == 1 + c
    assert first[0] == 0 and first[2] > first[0]  # the slow, resting client joins later
    assert sum(r.sim_time_s for r in hist.rounds) == pytest.approx(sim.now)
    again = fl.AsyncFederatedSimulator(h.mlp(), h.ce, h.federation(3), **kw)
    again.run(16)
    assert torch.equal(again.global_vec, sim.global_vec)  # seeded: reproducible


def test_scheduled_participation_and_staleness_cap(h) -> None:
    """Client 2 starts once at t = 0 and never again; with max_staleness = 1 its update (staleness 3) is dropped."""
    sched = fl.Scheduled(lambda c, now, job: (0.0 if now == float("-inf") else (None if c == 2 else now)))
    sim = _sim(h, participation=sched, max_staleness=1)
    hist = sim.run(4)
    assert any(2 in r.dropped for r in hist.rounds)
    assert all(2 not in r.clients for r in hist.rounds)


def test_staleness_functions_by_hand() -> None:
    tau = torch.tensor([0.0, 3.0, 4.0, 5.0, 6.0])
    assert torch.allclose(fl.polynomial_staleness(0.5)(tau), ((1 + tau) ** -0.5).double())
    hinge = fl.hinge_staleness(a=10.0, b=4.0)(tau)
    assert torch.allclose(hinge, torch.tensor([1.0, 1.0, 1.0, 1 / 11, 1 / 21], dtype=torch.float64))
    alg = fl.Algorithm(staleness=fl.hinge_staleness(a=10.0, b=4.0))
    info = fl.AggregationInfo(round_idx=0, clients=[0, 1], num_clients=2, staleness=torch.tensor([0.0, 5.0]))
    assert torch.allclose(alg.staleness_weights(torch.tensor([0.5, 0.5]), info), torch.tensor([11 / 12, 1 / 12]))
