"""Bad client updates (NaN/Inf, wrong shape) and clients that vanish mid-round."""
from __future__ import annotations

import pytest
import torch

from zoo.engines import federated as fl
from zoo.errors import FederatedError


class Poison(fl.Algorithm):
    """FedAvg whose client ``bad`` sends a broken update."""

    def __init__(self, bad: int, kind: str) -> None:
        super().__init__()
        self.bad, self.kind = bad, kind

    def message(self, ctx: fl.LocalContext) -> dict[str, torch.Tensor]:
        msg = super().message(ctx)
        if ctx.client == self.bad:
            d = msg["delta"].clone()
            if self.kind == "nan":
                d[3] = float("nan")
            elif self.kind == "inf":
                d[0] = float("inf")
            else:
                d = d[:-1]
            msg["delta"] = d
        return msg


def _sim(h, **kw) -> fl.FederatedSimulator:
    return fl.FederatedSimulator(h.mlp(), h.ce, h.federation(4), recipe=fl.LocalRecipe(steps=2, batch_size=8), **kw)


@pytest.mark.parametrize("kind,words", [("nan", "NaN/Inf"), ("inf", "NaN/Inf"), ("shape", "shape")])
def test_bad_update_raises_a_clear_error(h, kind: str, words: str) -> None:
    sim = _sim(h, algorithm=Poison(1, kind))
    with pytest.raises(FederatedError, match=rf"round 0: update of client 1 rejected: .*{words}"):
        sim.round()


@pytest.mark.parametrize("kind", ["nan", "shape"])
def test_bad_update_dropped_and_the_round_goes_on(h, kind: str) -> None:
    sim = _sim(h, algorithm=Poison(1, kind), policy=fl.UpdatePolicy("drop"))
    hist = sim.run(2)
    assert all(1 in r.dropped and r.clients == [0, 2, 3] for r in hist.rounds)
    clean = _sim(h, sampler=fl.CustomSampler(lambda r, n, s: [0, 2, 3]))
    clean.run(2)
    assert torch.equal(sim.global_vec, clean.global_vec)  # same as if client 1 had never taken part
    assert torch.isfinite(sim.global_vec).all()


def test_vanished_client_does_not_stall_the_round(h) -> None:
    star = fl.StarNetwork(torch.full((4,), 0.01), torch.full((4,), 0.05), torch.full((4,), 1e9),
                          torch.full((4,), 1e9), server_bps=1e9)
    sim = _sim(h, dropout=fl.Dropout(fn=lambda r, c: c == 2), network=star, deadline_s=5.0)
    rec = sim.round()
    assert rec.vanished == [2] and rec.clients == [0, 1, 3]
    assert rec.sim_time_s == pytest.approx(5.0)  # the server waited until its deadline, then closed the round
    clean = _sim(h, sampler=fl.CustomSampler(lambda r, n, s: [0, 1, 3]))
    clean.round()
    assert torch.equal(sim.global_vec, clean.global_vec)


def test_everyone_vanishes_keeps_the_model(h) -> None:
    sim = _sim(h, dropout=fl.Dropout(p=1.0))
    before = sim.global_vec.clone()
    rec = sim.round()
    assert rec.clients == [] and sorted(rec.vanished) == [0, 1, 2, 3] and torch.equal(sim.global_vec, before)


def test_random_dropout_is_seeded(h) -> None:
    a = _sim(h, dropout=fl.Dropout(p=0.5), seed=3).run(4)
    b = _sim(h, dropout=fl.Dropout(p=0.5), seed=3).run(4)
    assert [r.vanished for r in a.rounds] == [r.vanished for r in b.rounds]
    assert any(r.vanished for r in a.rounds)


def test_decentralised_node_with_nan_model_is_dropped(h) -> None:
    ds = h.blobs(40)
    x = ds.tensors[0].clone()
    x[:10] = float("nan")  # node 0's data poisons its gradient
    data = fl.FederatedData.partitioned(torch.utils.data.TensorDataset(x, ds.tensors[1]),
                                        [list(range(i * 10, i * 10 + 10)) for i in range(4)])
    strict = fl.DecentralizedSimulator(h.mlp(), h.ce, data, fl.ring(4), recipe=fl.LocalRecipe(steps=1))
    with pytest.raises(FederatedError, match="client 0"):
        strict.round()
    lenient = fl.DecentralizedSimulator(h.mlp(), h.ce, data, fl.ring(4), recipe=fl.LocalRecipe(steps=1),
                                        policy=fl.UpdatePolicy("drop"))
    rec = lenient.run(2).rounds[-1]
    assert 0 in rec.dropped and torch.isfinite(lenient.live).all()


def test_policy_validation() -> None:
    with pytest.raises(FederatedError, match="on_invalid"):
        fl.UpdatePolicy("ignore")  # type: ignore[arg-type]


class Capture:
    """An aggregator that records the updates it receives (then averages them)."""

    def __init__(self) -> None:
        self.deltas: list[torch.Tensor] = []

    def __call__(self, global_vec, deltas, weights, state):
        self.deltas.append(deltas.clone())
        return fl.WeightedFedAvg()(global_vec, deltas, weights, state)


@pytest.mark.parametrize("attack", [fl.SignFlip(2.0), fl.ALIE(z=1.0)])
def test_byzantine_clients_forge_their_uplink(h, attack) -> None:
    honest, forged = Capture(), Capture()
    _sim(h, algorithm=fl.Algorithm(aggregator=honest)).round()
    _sim(h, algorithm=fl.Algorithm(aggregator=forged), byzantine=fl.Byzantine([1], attack)).round()
    d, f = honest.deltas[0], forged.deltas[0]
    assert torch.equal(f[[0, 2, 3]], d[[0, 2, 3]])  # honest clients untouched
    if isinstance(attack, fl.SignFlip):
        assert torch.allclose(f[1], -2.0 * d[1])
    else:
        others = d[[0, 2, 3]]
        assert torch.allclose(f[1], others.mean(0) - others.std(0, unbiased=False), atol=1e-6)
