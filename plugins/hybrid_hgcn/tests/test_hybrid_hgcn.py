"""HybridHGCN: incidence powers and their operators pinned on a small hypergraph, Eq. 8 computed by hand, the
receptive field growing with the order, HybridHGCN vs HGNN on the karate club, paper sizes, conformance."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import zoo
import zoo.testing
from zoo.graphs import incidence_from_adjacency
from zoo_plugins.hybrid_hgcn.config import citeseer, hgnn, paper, pubmed, tiny
from zoo_plugins.hybrid_hgcn.data import karate
from zoo_plugins.hybrid_hgcn.model import HybridHGCN, hybrid_message


def path_incidence(n: int) -> torch.Tensor:
    a = torch.diag(torch.ones(n - 1), 1)
    return incidence_from_adjacency(a + a.T).double()


def test_conformance() -> None:
    zoo.testing.check_method("hybridhgcn")


def test_operators_pinned_on_a_path_hypergraph() -> None:
    """Path 0-1-2, one hyperedge per vertex (itself + neighbours): H = [[1,1,0],[1,1,1],[0,1,1]],
    H^2 = [[2,2,1],[2,3,2],[1,2,2]]; Theta(H) and Theta(H^2) computed by hand from their own degrees."""
    h = path_incidence(3)
    model = HybridHGCN(replace(tiny(), orders=(1, 2))).double()
    t1, t2 = model.operators(h)
    r6 = math.sqrt(6)
    want1 = torch.tensor([[5 / 12, 5 / (6 * r6), 1 / 6],
                          [5 / (6 * r6), 4 / 9, 5 / (6 * r6)],
                          [1 / 6, 5 / (6 * r6), 5 / 12]], dtype=torch.float64)
    assert torch.allclose(t1, want1)
    # H^2: vertex and hyperedge degrees (5, 7, 5); (H^2 De^-1 H^2T)_00 = 4/5 + 4/7 + 1/5 = 11/7
    assert float(t2[0, 0]) == pytest.approx(11 / 7 / 5)
    assert float(t2[0, 2]) == pytest.approx((2 / 5 + 4 / 7 + 2 / 5) / 5)
    assert float(t2[1, 1]) == pytest.approx((4 / 5 + 9 / 7 + 4 / 5) / 7)
    binary = HybridHGCN(replace(tiny(), orders=(1, 2), binarize_powers=True)).double().operators(h)[1]
    assert torch.allclose(binary, torch.full((3, 3), 1 / 3, dtype=torch.float64))  # [H^2 > 0] = all ones


def test_forward_is_eq8() -> None:
    """Eval-mode output = max over k of Theta_k (relu(Theta_k (X W1 + b1)) W2 + b2), with shared W."""
    torch.manual_seed(0)
    cfg = replace(tiny(), in_features=5, hidden=4, num_classes=3, orders=(1, 2, 3))
    model = HybridHGCN(cfg).double().eval()
    x = torch.randn(6, 5, dtype=torch.float64)
    ops = model.operators(path_incidence(6))
    w1, w2 = model.layer1[0].linear, model.layer2[0].linear
    branches = [op @ (F.relu(op @ (x @ w1.weight.T + w1.bias)) @ w2.weight.T + w2.bias) for op in ops]
    out = model(x, ops)
    assert torch.allclose(out, torch.stack(branches).amax(0))
    assert not torch.allclose(out, branches[0])  # the max really mixes branches
    assert torch.allclose(hybrid_message(branches, "mean"), torch.stack(branches).mean(0))
    assert torch.allclose(hybrid_message(branches, "sum"), branches[0] + branches[1] + branches[2])
    assert len(list(model.parameters())) == 4  # shared Theta: one pair of layers for all orders


def test_receptive_field_grows_with_the_order() -> None:
    """Each Theta(H^k) links vertices up to 2k hops apart (vertex -> hyperedge -> vertex), two layers double it:
    on a 20-vertex path the logits that depend on vertex 0's features reach hop 4 for HGNN and hop 12 for
    orders 1-3."""
    n = 20
    h = path_incidence(n).float()

    def reach(orders: tuple[int, ...]) -> int:
        torch.manual_seed(0)
        model = HybridHGCN(replace(tiny(), in_features=3, hidden=8, orders=orders, mix="sum")).eval()
        x = torch.randn(n, 3, requires_grad=True)
        out = model(x, model.operators(h))
        jac = [torch.autograd.grad(out[v].sum(), x, retain_graph=True)[0][0].abs().sum() for v in range(n)]
        return max(v for v in range(n) if float(jac[v]) > 0)

    assert reach((1,)) == 4 and reach((1, 2, 3)) == 12


def test_hybrid_beats_hgnn_on_karate_with_one_label_per_class() -> None:
    """The paper's claim (larger gains at low label rates), at test scale: Zachary's karate club, one labelled
    member per faction, 8 seeded splits, 100 full-batch Adam steps; mean test accuracy HybridHGCN (orders 1-3)
    vs HGNN (order 1)."""

    def run(cfg, split: int) -> float:  # type: ignore[no-untyped-def]
        torch.manual_seed(split)
        data = karate(1, split)
        model = HybridHGCN(cfg)
        ops = model.operators(data.incidence)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        for _ in range(100):
            opt.zero_grad()
            F.cross_entropy(model(data.features, ops)[data.train_mask], data.labels[data.train_mask]).backward()
            opt.step()
        pred = model.eval()(data.features, ops).argmax(1)
        return float((pred[data.test_mask] == data.labels[data.test_mask]).float().mean())

    hybrid = np.mean([run(tiny(), s) for s in range(8)])
    base = np.mean([run(hgnn(), s) for s in range(8)])
    assert hybrid > base + 0.015, (hybrid, base)


def test_train_and_evaluate_through_the_api() -> None:
    model = zoo.build("hybridhgcn-tiny")
    data = zoo.make_data(model, "karate")
    result = zoo.train(model, data, steps=60, progress=False)
    assert result.metrics["train_accuracy"] == 1.0 and result.metrics["test_accuracy"] > 0.85
    assert zoo.evaluate(model, data)["accuracy"] == pytest.approx(result.metrics["test_accuracy"])
    out = zoo.infer(model, {"x": data.features, "incidence": data.incidence})
    assert out["probs"].shape == (34, 2)
    sbm = zoo.make_data(model, "synthetic")  # the SBM follows the variant's feature width
    assert sbm.features.shape == (300, 34) and sbm.train_mask.sum() == 2 * 2


@pytest.mark.parametrize("factory,params", [(paper, 1433 * 32 + 32 + 32 * 7 + 7),
                                            (citeseer, 3703 * 16 + 16 + 16 * 6 + 6),
                                            (pubmed, 500 * 64 + 64 + 64 * 3 + 3)])
def test_paper_sizes(factory, params: int) -> None:  # type: ignore[no-untyped-def]
    """Sect. 5.2: hidden 32 / 16 / 64 for Cora / Citeseer / Pubmed, orders 1, 2, 3, Theta shared across orders
    (Eq. 8): Cora 46,119 parameters."""
    cfg = factory()
    assert cfg.orders == (1, 2, 3)
    with torch.device("meta"):
        model = HybridHGCN(cfg)
    assert sum(p.numel() for p in model.parameters()) == params
    assert paper().hidden == 32 and sum(p.numel() for p in HybridHGCN(paper()).parameters()) == 46_119
