"""GLSCL on frozen embeddings: the parameter-free global interaction and the shared local interaction by hand,
IDL/ICL by hand and in behaviour, the FLOP cost against a cross-modal baseline, the paper's sizes, conformance."""
from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

import zoo
import zoo.testing
from zoo_plugins.glscl.baseline import retrieval_flops
from zoo_plugins.glscl.config import paper, tiny
from zoo_plugins.glscl.losses import inter_consistency, intra_diversity, margin_ranking
from zoo_plugins.glscl.model import GLSCL, global_scores, local_scores


def test_conformance() -> None:
    zoo.testing.check_method("glscl")


def test_global_interaction_is_parameter_free_text_conditioned_pooling() -> None:
    cls = torch.tensor([[1.0, 0.0]])
    frames = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [5.0, 5.0]]])
    mask = torch.tensor([[1.0, 1.0, 0.0]])  # the third frame is padding
    w = torch.softmax(torch.tensor([1.0, 0.0]) / 0.5, dim=0)
    pooled = w[0] * frames[0, 0] + w[1] * frames[0, 1]
    expected = F.cosine_similarity(cls[0], pooled, dim=0)
    assert global_scores(cls, frames, mask, 0.5).item() == pytest.approx(expected.item(), rel=1e-6)
    texts = torch.tensor([[2.0, 1.0], [0.5, -1.0]])  # two texts x two videos, unnormalised, by loops
    videos = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [5.0, 5.0]], [[0.3, -0.2], [1.0, 1.0], [-1.0, 2.0]]])
    masks = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    for a in range(2):
        for b in range(2):
            keep = masks[b].bool()
            weights = torch.softmax(videos[b][keep] @ texts[a] / 0.5, dim=0)
            pooled_ab = (weights[:, None] * videos[b][keep]).sum(0)
            assert global_scores(texts, videos, masks, 0.5)[a, b].item() == pytest.approx(
                F.cosine_similarity(texts[a], pooled_ab, dim=0).item(), rel=1e-5)
    sharper = global_scores(cls, frames, mask, 0.05).item()
    assert sharper > expected.item()  # a lower temperature attends more to the caption's frame
    assert sum(p.numel() for p in GLSCL(tiny()).parameters()) == sum(  # no parameter beyond the local module
        p.numel() for n, p in GLSCL(tiny()).named_parameters() if n.startswith(("queries", "decoder", "logit")))


def test_local_interaction_shares_queries_and_decoder_across_modalities() -> None:
    torch.manual_seed(0)
    model = GLSCL(tiny()).eval()
    tokens, mask = torch.randn(3, 7, 64), torch.ones(3, 7)
    batch = {"text_tokens": tokens, "text_mask": mask, "text_cls": torch.randn(3, 64),
             "video_frames": tokens.clone(), "video_mask": mask.clone()}
    with torch.no_grad():
        enc = model.encode(batch)
    torch.testing.assert_close(enc["text_concepts"], enc["video_concepts"])  # one module, one set of queries
    t, v = enc["text_concepts"], enc["video_concepts"]
    by_hand = torch.stack([torch.stack([(t[a] * v[b]).sum(-1).mean() for b in range(3)]) for a in range(3)])
    torch.testing.assert_close(local_scores(t, v), by_hand)
    assert torch.allclose(t.norm(dim=-1), torch.ones(3, 4))


def test_losses_by_hand() -> None:
    from zoo_plugins.glscl.losses import contrastive

    scores = torch.tensor([[0.9, 0.1], [0.3, 0.5]])
    scale = torch.tensor(math.log(10.0))  # logits x10
    logits = 10 * scores
    t2v = -(logits.log_softmax(1).diag()).mean()
    v2t = -(logits.log_softmax(0).diag()).mean()
    assert contrastive(scores, scale).item() == pytest.approx(((t2v + v2t) / 2).item(), rel=1e-6)
    s = torch.tensor([[1.0, 0.95], [0.2, 0.5]])
    # rows: [0.1 + 0.95 - 1]_+ = 0.05, [0.1 + 0.2 - 0.5]_+ = 0; cols: [0.1 + 0.95 - 0.5]_+ = 0.55, [0.1 + 0.2 - 1]_+ = 0
    assert margin_ranking(s, 0.1).item() == pytest.approx((0.05 + 0.55) / 2)
    same = F.normalize(torch.randn(5, 3, 8), dim=-1)
    assert inter_consistency(same, same, beta=1.0).item() == pytest.approx(3 * 0.25 ** 2, rel=1e-5)
    assert inter_consistency(same, same, beta=1.0, target=1.0).item() == pytest.approx(0.0, abs=1e-6)
    orthogonal = torch.eye(4)[None].repeat(6, 1, 1)
    collapsed = F.normalize(torch.ones(6, 4, 4), dim=-1)
    assert intra_diversity(orthogonal).item() == 0.0  # every off-diagonal hinge is [0.1 + 1 - 1]_+ twice:
    assert intra_diversity(collapsed).item() == pytest.approx(0.2)
    assert math.isclose(inter_consistency(same, same, 1.0, normalisation="queries").item(),
                        F.mse_loss(same.mean(0), same.mean(0)).item() + 3 * (5 / 3 - 0.75) ** 2, rel_tol=1e-5)


def test_idl_makes_concepts_diverse_and_icl_makes_modalities_agree() -> None:
    torch.manual_seed(0)
    model = GLSCL(tiny())
    model.queries.data = 0.5 + 0.01 * torch.randn_like(model.queries)  # nearly collapsed queries
    frames, mask = torch.randn(16, 12, 64), torch.ones(16, 12)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

    def off_diagonal(c: torch.Tensor) -> float:
        sim = torch.einsum("bqd,bpd->qp", c, c) / len(c)
        return float(sim[~torch.eye(len(sim), dtype=torch.bool)].mean())

    before = off_diagonal(model.concepts(frames, mask).detach())
    for _ in range(30):
        optimizer.zero_grad()
        intra_diversity(model.concepts(frames, mask)).backward()
        optimizer.step()
    assert off_diagonal(model.concepts(frames, mask).detach()) < before - 0.2
    words, wmask = torch.randn(16, 16, 64), torch.ones(16, 16)

    def agreement() -> float:
        with torch.no_grad():
            return float(torch.einsum("bqd,bqd->q", model.concepts(frames, mask), model.concepts(words, wmask))
                         .mean() / 16)

    start = agreement()
    for _ in range(40):  # ICL with a target of 0.2: matching visual/textual concepts move to that similarity
        optimizer.zero_grad()
        inter_consistency(model.concepts(frames, mask), model.concepts(words, wmask), 1.0, 0.2).backward()
        optimizer.step()
    assert abs(agreement() - 0.2) < 0.5 * abs(start - 0.2) and abs(start - 0.2) > 0.2


def test_cost_against_a_cross_modal_baseline_in_flops() -> None:
    flops = retrieval_flops(paper(), 1000, 1000)
    assert flops["cross_modal"] / flops["glscl"] > 100  # paper: ~220x cheaper than cross-modal state of the art
    assert flops["glscl_global"] < 0.1 * flops["glscl"]  # the global interaction is nearly free
    small = retrieval_flops(paper(), 100, 100)
    assert small["cross_modal"] / small["glscl"] < flops["cross_modal"] / flops["glscl"]  # the gap grows with N


def test_paper_sizes() -> None:
    cfg = paper()
    model = GLSCL(cfg)
    layer = 2 * (4 * 512 * 512 + 4 * 512) + (2 * 512 * 2048 + 2048 + 512) + 3 * 2 * 512
    assert model.queries.shape == (8, 512) and len(model.decoder.layers) == 3
    assert sum(p.numel() for p in model.decoder.parameters()) == 3 * layer
    assert (cfg.frames, cfg.words, cfg.temperature, cfg.local_weight) == (12, 32, 3.0, 0.5)


@pytest.mark.slow
def test_training_the_local_module_improves_on_the_global_interaction() -> None:
    torch.manual_seed(0)
    model = zoo.build("glscl-tiny", seed=0)
    zoo.train(model, zoo.make_data(model, "synthetic", "train"), steps=200, progress=False)
    report = zoo.evaluate(model, zoo.make_data(model, "synthetic", "test"))
    assert report["R@1"] > report["global_R@1"] + 0.2
