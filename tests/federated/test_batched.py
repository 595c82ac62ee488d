"""Batched local training (torch.func vmap over stacked client parameters) gives the sequential loop's results."""
from __future__ import annotations

import pytest
import torch

from zoo.engines import federated as fl
from zoo.errors import FederatedError


class Mixed(fl.Algorithm):
    """SAM + prox local rule and per-client step counts: the hooks the batched trainer must honour."""

    def local_rule(self):
        return fl.ComposedRule([fl.SAMRule(0.05), fl.ProxRule(0.1)])

    def recipe(self, client, round_idx, base, client_state):
        return base.with_(steps=2 + client % 3)


def _pair(h, **kw) -> tuple[fl.FederatedSimulator, fl.FederatedSimulator]:
    ds = h.blobs(230, seed=4)
    data = fl.FederatedData.partitioned(ds, fl.dirichlet(ds.tensors[1].numpy(), 6, 0.5, seed=0, min_size=9))
    out = []
    for execution in ("sequential", "batched"):
        out.append(fl.FederatedSimulator(h.mlp(), h.ce, data, execution=execution, **kw))
    return out[0], out[1]


@pytest.mark.parametrize("kw", [
    dict(recipe=fl.LocalRecipe(steps=5, batch_size=16, lr=0.05, optimizer="adam", lr_schedule="sqrt")),
    dict(recipe=fl.LocalRecipe(steps=2, batch_size=12, lr=0.1, momentum=0.9, grad_clip=0.5), algorithm=Mixed(),
         roles={"0.bias": "frozen", "2": "local"}),
])
def test_batched_equals_sequential(h, kw) -> None:
    seq, bat = _pair(h, **kw)
    for _ in range(2):
        rs, rb = seq.round(), bat.round()
        assert rs.clients == rb.clients and rs.steps == rb.steps and rs.bytes_up == rb.bytes_up
        assert torch.allclose(seq.global_vec, bat.global_vec, atol=2e-6)
        for k in rs.clients:
            a, b = seq.raw_client_state(k), bat.raw_client_state(k)
            assert set(a) == set(b) and all(torch.allclose(a[x], b[x], atol=2e-5) for x in a)
        assert rs.loss == pytest.approx(rb.loss, rel=1e-5)
        bat.global_vec = seq.global_vec.clone()  # compare each round from a common start (no drift build-up)
        for k in seq.store.clients():
            bat.store.put(k, seq.store.get(k))


def test_batched_is_refused_with_a_reason_and_auto_falls_back(h) -> None:
    def ctx_loss(model, batch, ctx):
        return h.ce(model, batch)

    with pytest.raises(FederatedError, match="client context"):
        fl.FederatedSimulator(h.mlp(), ctx_loss, h.federation(2), recipe=fl.LocalRecipe(),
                              execution="batched").round()
    auto = fl.FederatedSimulator(h.mlp(), ctx_loss, h.federation(2), recipe=fl.LocalRecipe(), execution="auto")
    seq = fl.FederatedSimulator(h.mlp(), ctx_loss, h.federation(2), recipe=fl.LocalRecipe())
    auto.round()
    seq.round()
    assert torch.equal(auto.global_vec, seq.global_vec)
