"""Codecs that see the layer layout and keep per-sender state (error feedback) on the uplink and downlink."""
from __future__ import annotations

import torch

from zoo.engines import federated as fl


def test_per_layer_topk_keeps_a_fraction_of_every_layer() -> None:
    v = torch.tensor([9.0, 8.0, 7.0, 6.0, 0.1, 0.2, 0.3, 0.4])
    ctx = fl.CodecContext(segments=(("a", 0, 4), ("b", 4, 8)))
    per_layer = fl.TopK(0.5, per_layer=True).encode(v, ctx)
    assert torch.allclose(per_layer.decoded, torch.tensor([9.0, 8.0, 0, 0, 0, 0, 0.3, 0.4]))
    assert per_layer.nbytes == 4 * 8
    whole = fl.TopK(0.5).encode(v, ctx)
    assert whole.decoded.tolist() == [9.0, 8.0, 7.0, 6.0, 0, 0, 0, 0]  # one layer starves
    q = fl.UniformQuantize(2, per_layer=True).encode(v, ctx)
    assert q.nbytes == 2 * (1 + 8) and (q.decoded - v).abs().max() < 0.3 / 2 + 1e-6


def test_error_feedback_by_hand() -> None:
    """TopK(1/2) of [1, 0.4] with error feedback: sends [1, 0], then [1, 0] (residual 0.8), then [0, 1.2]."""
    codec = fl.ErrorFeedback(fl.TopK(0.5))
    ctx = fl.CodecContext(segments=(("", 0, 2),))
    sent = [codec.encode(torch.tensor([1.0, 0.4]), ctx).decoded.tolist() for _ in range(3)]
    assert sent[0] == [1.0, 0.0] and sent[1] == [1.0, 0.0]
    assert [round(x, 6) for x in sent[2]] == [0.0, 1.2]
    assert torch.allclose(ctx.state["residual"], torch.tensor([1.0, 0.0]))


def test_codec_state_persists_per_client_on_uplink_and_per_client_on_downlink(h) -> None:
    sim = fl.FederatedSimulator(h.mlp(), h.ce, h.federation(4), recipe=fl.LocalRecipe(steps=2, batch_size=8),
                                uplink=fl.ErrorFeedback(fl.TopK(0.1, per_layer=True)),
                                downlink=fl.ErrorFeedback(fl.UniformQuantize(4)), roles={"2": "local"})
    sim.run(2)
    wire = sim.layout.wire_size
    for k in range(4):
        up = sim.raw_client_state(k)["up.delta.residual"]
        down = sim.core.down_store.get(k)["model.residual"]
        assert up.shape == (wire,) and down.shape == (wire,) and up.abs().sum() > 0
    kept = sum(max(1, round(0.1 * (b - a))) for _, a, b in sim.layout.segments())
    assert sim.history.rounds[1].bytes_up == 4 * kept * 8  # only the shared layers, each at 10 %
    plain = fl.FederatedSimulator(h.mlp(), h.ce, h.federation(4), recipe=fl.LocalRecipe(steps=2, batch_size=8),
                                  uplink=fl.TopK(0.1, per_layer=True), roles={"2": "local"})
    plain.run(2)
    assert not torch.equal(plain.global_vec, sim.global_vec)  # the residual changed what was sent
