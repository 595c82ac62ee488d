"""DCAL: rollout by hand, top-R selection, GLCA by hand, PWCA = shared SA weights (absent at inference), the
paper's cost figures (GLCA +9 % parameters, +2 % FLOPs on DeiT-Tiny/CUB), re-ID evaluation, conformance."""
from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import zoo
import zoo.testing
from zoo_plugins.dcal.config import paper, tiny, tiny_reid
from zoo_plugins.dcal.model import (DCAL, _qkv, attention_rollout, global_local_attention, pair_attention,
                                    rollout_cls_row, select_local, self_attention)


def test_conformance() -> None:
    zoo.testing.check_method("dcal")


def test_rollout_matches_a_hand_computation() -> None:
    s1 = torch.tensor([[[0.5, 0.5, 0.0], [0.2, 0.6, 0.2], [0.0, 0.0, 1.0]]])
    s2 = torch.tensor([[[0.1, 0.1, 0.8], [1.0, 0.0, 0.0], [0.3, 0.3, 0.4]]])
    b1, b2 = 0.5 * s1[0] + 0.5 * torch.eye(3), 0.5 * s2[0] + 0.5 * torch.eye(3)
    by_hand = [[sum(b2[i, m] * b1[m, j] for m in range(3)) for j in range(3)] for i in range(3)]
    torch.testing.assert_close(attention_rollout([s1, s2])[0], torch.tensor(by_hand))
    assert by_hand[0][0] == pytest.approx(0.55 * 0.75 + 0.05 * 0.1 + 0.4 * 0.0)
    torch.testing.assert_close(rollout_cls_row([s1, s2]), attention_rollout([s1, s2])[:, 0])
    assert select_local(torch.tensor([[9.0, 0.1, 0.7, 0.3, 0.5]]), 0.5).tolist() == [[2, 4]]  # cls excluded
    assert select_local(torch.tensor([[9.0, 0.8, 0.1, 0.2]]), 0.5).tolist() == [[1, 3]]  # R = round(0.5 x 3)
    assert select_local(torch.tensor([[9.0, 0.1, 0.7, 0.3]]), 0.01).tolist() == [[2]]  # at least one token
    assert select_local(torch.tensor([[9.0, 8.0, 0.1, 0.7]]), 0.5, prefix=2).tolist() == [[3]]  # cls + dist token


def _block_and_tokens(seed: int = 0) -> tuple[torch.nn.Module, torch.Tensor]:
    torch.manual_seed(seed)
    model = DCAL(tiny()).eval()
    return model.vit.blocks[0], torch.randn(2, 5, 64)


def test_pwca_shares_the_sa_weights_and_reduces_to_sa_with_itself_as_distractor() -> None:
    block, x = _block_and_tokens()
    sa, weights, kv = self_attention(block, x)
    torch.testing.assert_close(pair_attention(block, x, kv), sa, rtol=1e-5, atol=1e-5)  # [K;K]: same softmax
    other = torch.randn(2, 5, 64)
    _, _, kv2 = self_attention(block, other)
    assert (pair_attention(block, x, kv2) - sa).abs().max() > 1e-3  # a distractor changes the attention
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 5))


def test_glca_is_cross_attention_from_selected_queries_to_all_tokens() -> None:
    block, x = _block_and_tokens(1)
    local = torch.tensor([[3, 1], [4, 2]])
    out = global_local_attention(block, x, local)
    assert out.shape == (2, 3, 64)
    q, k, v = _qkv(block, x)
    idx = torch.tensor([0, 3, 1])
    heads = ((q[0][:, idx] @ k[0].transpose(-2, -1)) / math.sqrt(q.shape[-1])).softmax(-1) @ v[0]
    attn = block.attn
    y = x[0, idx] + attn.proj(heads.transpose(0, 1).flatten(1))
    y = y + block.mlp(block.norm2(y))
    torch.testing.assert_close(out[0], y, rtol=1e-4, atol=1e-5)


def test_pwca_runs_in_training_only_and_owns_no_parameters() -> None:
    torch.manual_seed(0)
    model = DCAL(tiny())
    x, partner = torch.rand(4, 3, 32, 32), torch.tensor([1, 2, 3, 0])
    model.train()
    train_out = model(x, partner)
    assert {"sa_logits", "glca_logits", "pwca_logits"} <= set(train_out)
    model.eval()
    eval_out = model(x, partner)
    assert "pwca_logits" not in eval_out and eval_out["local"].shape == (4, round(0.1 * 64))
    assert not any("pwca" in name for name, _ in model.named_parameters())
    without = DCAL(replace(tiny(), pwca=False))
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in without.parameters()) + 1
    (loss := train_out["pwca_logits"].sum()).backward()  # PWCA's gradient trains the shared SA blocks
    assert model.vit.blocks[0].attn.qkv.weight.grad.abs().sum() > 0 and loss.requires_grad


def test_paper_cost_of_glca_on_deit_tiny() -> None:
    cost = {}
    for glca in (False, True):
        with torch.device("meta"):
            model = DCAL(replace(paper(), pretrained=False, glca=glca, pwca=False)).eval()
            with FlopCounterMode(display=False) as counter:
                out = model(torch.empty(1, 3, 448, 448))
        cost[glca] = (sum(p.numel() for p in model.parameters()), counter.get_total_flops())
    assert (paper().depth, paper().embed_dim, paper().num_heads) == (12, 192, 3)
    assert out["local"].shape == (1, round(0.1 * 784))  # R = 10 % of the 28 x 28 tokens
    params, flops = cost[True][0] / cost[False][0] - 1, cost[True][1] / cost[False][1] - 1
    assert 0.08 < params < 0.095 and 0.015 < flops < 0.03  # paper: +9 % parameters, +2 % FLOPs


def test_reid_variant_reports_cmc_and_map() -> None:
    torch.manual_seed(0)
    model = zoo.build("dcal-tiny-reid", seed=0)
    zoo.train(model, zoo.make_data(model, "synthetic", "train"), steps=2, progress=False)
    report = zoo.evaluate(model, zoo.make_data(model, "synthetic", "test"))
    assert {"mAP", "cmc@1", "cmc@5", "cmc@10"} <= set(report)
    assert model.descriptor(torch.rand(2, 3, 32, 16)).shape == (2, 128)  # SA and GLCA class tokens
    assert tiny_reid().local_ratio == 0.3


@pytest.mark.slow
def test_dual_cross_attention_beats_self_attention_alone() -> None:
    from zoo.options import TrainOptions
    from zoo_plugins.dcal.train import evaluate, make_data, train

    scores = {}
    for name, cfg in (("dcal", tiny()), ("sa", replace(tiny(), glca=False, pwca=False))):
        torch.manual_seed(0)
        model = DCAL(cfg)
        train(model, make_data(cfg, "synthetic", "train"), cfg, TrainOptions(steps=150, progress=False))
        scores[name] = evaluate(model, make_data(cfg, "synthetic", "test"), {})["top1"]
    assert scores["dcal"] > scores["sa"] + 0.03
