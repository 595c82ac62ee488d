"""EMMF: the identity-input encoder is the factorisation's embedding table, the losses of Eq. 7-9 by hand, the
alternating updates touch only their own networks, the reconstruction objective decreases, the shared
representation clusters planted multi-view data better than any single view, paper sizes, conformance."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

import zoo
import zoo.testing
from zoo.clustering import clustering_scores, kmeans
from zoo.errors import InputError
from zoo.options import TrainOptions
from zoo_plugins.emmf.config import paper, tiny
from zoo_plugins.emmf.data import planted_views
from zoo_plugins.emmf.losses import autoencoder_loss, discriminator_loss, generator_loss, reconstruction_loss
from zoo_plugins.emmf.model import EMMF
from zoo_plugins.emmf.train import make_step, train


def test_conformance() -> None:
    zoo.testing.check_method("emmf")


def test_identity_input_encoder_is_an_embedding_table() -> None:
    """H = f(I_n): feeding the identity through the first Linear equals reading its weight columns."""
    torch.manual_seed(0)
    model = EMMF(replace(tiny(), num_samples=9, view_dims=(4, 4, 4), encoder_dims=(6, 5)))
    enc = model.encoder
    direct = enc.rest(torch.relu(enc.first(torch.eye(9))))
    assert torch.allclose(model.representation(), direct, atol=1e-6)
    assert torch.allclose(model.representation(torch.tensor([3, 7])), direct[[3, 7]], atol=1e-6)
    with pytest.raises(InputError):
        model.representation(torch.tensor([9]))


def test_losses_hand_values() -> None:
    zero = [torch.zeros(5), torch.zeros(3)]  # logits 0: D = 1/2 everywhere
    assert float(generator_loss(zero)) == pytest.approx(2 * math.log(2))
    assert float(discriminator_loss(zero, zero)) == pytest.approx(2 * 2 * math.log(2))
    confident = [torch.full((4,), 20.0)]  # D(real) ~ 1, D(fake) ~ 0: the discriminator's loss ~ 0
    assert float(discriminator_loss(confident, [-c for c in confident])) < 1e-6
    x = [torch.ones(2, 3), torch.zeros(2, 2)]
    r = [torch.zeros(2, 3), torch.ones(2, 2)]
    assert float(reconstruction_loss(x, r)) == pytest.approx(2.0)  # mean squared error 1 per view
    total, logs = autoencoder_loss(x, r, zero, 0.5)
    assert float(total) == pytest.approx(2.0 + 0.5 * 2 * math.log(2))
    assert logs["l_r"] == pytest.approx(2.0)
    bce = reconstruction_loss([torch.tensor([[1.0, 0.0]])], [torch.tensor([[0.0, 0.0]])], "bce")
    assert float(bce) == pytest.approx(math.log(2))


def test_each_update_moves_only_its_own_networks() -> None:
    """Algorithm 1: the autoencoder step (L_1) leaves the discriminators unchanged, the discriminator step (L_D)
    leaves the encoder and decoders unchanged."""
    torch.manual_seed(0)
    cfg = replace(tiny(), num_samples=30, lambda_d=0.5)
    model = EMMF(cfg)
    data = planted_views(30, cfg.view_dims)
    gen_params = [*model.encoder.parameters(), *model.decoders.parameters()]
    gen_opt = torch.optim.SGD(gen_params, lr=0.1)
    disc_opt = torch.optim.SGD(model.discriminators.parameters(), lr=0.0)  # frozen: isolate the L_1 step
    before = {k: v.clone() for k, v in model.state_dict().items()}
    make_step(cfg, disc_opt)(model, data, gen_opt)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("discriminators"))
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("encoder"))
    gen_opt = torch.optim.SGD(gen_params, lr=0.0)
    disc_opt = torch.optim.SGD(model.discriminators.parameters(), lr=0.1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    make_step(cfg, disc_opt)(model, data, gen_opt)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before if not k.startswith("discriminators"))
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("discriminators"))


@pytest.fixture(scope="module")
def trained() -> list:  # type: ignore[type-arg]
    data = planted_views()
    cfg = replace(tiny(), iterations=200)
    runs = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        runs.append(train(EMMF(cfg), data, cfg, TrainOptions(seed=seed, progress=False)))
    return runs


def test_reconstruction_objective_decreases(trained: list) -> None:  # type: ignore[type-arg]
    """Fig. 2: the reconstruction loss falls fast, then levels off (the adversarial term may hold it slightly
    above its minimum)."""
    for result in trained:
        l_r = np.array(result.history["l_r"])
        assert l_r[-1] < 0.2 * l_r[0]
        assert l_r[80:100].mean() < 0.5 * l_r[:20].mean()
        assert l_r[-20:].mean() < 1.1 * l_r[80:100].mean()


def test_shared_representation_beats_every_single_view(trained: list) -> None:  # type: ignore[type-arg]
    """The planted clusters are a pair of factors seen by different views: k-means on any one view cannot find
    them; k-means on EMMF's shared H does (mean of 2 seeds)."""
    data = planted_views()
    single = max(clustering_scores(data.labels, kmeans(v.double(), 4).labels)["acc"] for v in data.views)
    emmf = float(np.mean([r.metrics["acc"] for r in trained]))
    assert single < 0.6 and emmf > single + 0.15, (single, emmf)


def test_api_round_trip() -> None:
    model = zoo.build("emmf-tiny")
    data = zoo.make_data(model)
    result = zoo.train(model, data, steps=5, progress=False)
    assert {"acc", "nmi", "ari"} <= set(result.metrics)
    out = zoo.infer(model, {"index": torch.arange(10)})
    assert out["representation"].shape == (10, 4)
    assert torch.equal(out["cluster"], result.extra["labels"][:10])


def test_paper_sizes() -> None:
    """MSRC-v1: n = 210, views 24/576/512/256/254, encoder 1000-500-200-k (k = 7), symmetric decoders,
    discriminators 200-100-50-1."""
    cfg = paper()
    with torch.device("meta"):
        model = EMMF(cfg)
    enc = 210 * 1000 + 1000 + 1000 * 500 + 500 + 500 * 200 + 200 + 200 * 7 + 7
    dec = sum(7 * 200 + 200 + 200 * 500 + 500 + 500 * 1000 + 1000 + 1000 * d + d for d in cfg.view_dims)
    dis = sum(d * 200 + 200 + 200 * 100 + 100 + 100 * 50 + 50 + 50 + 1 for d in cfg.view_dims)
    assert sum(p.numel() for p in model.encoder.parameters()) == enc
    assert sum(p.numel() for p in model.decoders.parameters()) == dec
    assert sum(p.numel() for p in model.discriminators.parameters()) == dis
    assert cfg.iterations == 800
