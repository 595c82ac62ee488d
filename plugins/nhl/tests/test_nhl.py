"""NHL: the soft Hebbian update by hand, what adapts and what stays fixed, and adaptation on a corrupted digit
stream without labels beating the source model."""
from __future__ import annotations

import dataclasses

import pytest
import torch
from torch.nn import functional as F

import zoo
import zoo.testing
from zoo.engines.local_learning.forward_only import soft_hebbian_delta
from zoo.errors import ConfigError
from zoo_plugins.nhl.adapt import StreamAdapter, entropy, hebbian_step
from zoo_plugins.nhl.config import NHLConfig, paper, tiny
from zoo_plugins.nhl.data import corrupt
from zoo_plugins.nhl.model import NHLNet


def test_conforms_and_infers_with_adaptation() -> None:
    zoo.testing.check_method("nhl")
    model = zoo.build("nhl-tiny")
    before = model.conv1.weight.detach().clone()
    out = zoo.infer(model, zoo.example_inputs(model), adapt=True)
    assert out["probs"].shape == (2, 10) and torch.equal(model.conv1.weight, before)  # a copy adapted


def test_paper_sizes() -> None:
    config = paper()
    assert (config.in_channels, config.image_size, config.channels) == (3, 32, (64, 128))
    net = NHLNet(config)
    expected = 3 * 64 * 9 + (64 * 64 + 64) + 2 * 64 + 64 * 128 * 9 + 2 * 128 + (128 * 10 + 10)
    assert sum(p.numel() for p in net.parameters()) == expected
    with pytest.raises(ConfigError, match="adaptation"):
        NHLConfig(adapt="tent")


def test_hebbian_step_is_the_soft_competitive_rule_on_image_patches() -> None:
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(1, 4, 3, padding=1, bias=False)
    x = torch.rand(2, 1, 5, 5)
    w0 = conv.weight.detach().clone().view(4, -1)
    patches = torch.stack([F.pad(x[b, 0], (1, 1, 1, 1))[i:i + 3, j:j + 3].flatten()
                           for b in range(2) for i in range(5) for j in range(5)])
    hebbian_step(conv, x, lr=0.5, temperature=0.2, keep_norm=False)
    torch.testing.assert_close(conv.weight.view(4, -1), w0 + 0.5 * soft_hebbian_delta(w0, patches, 0.2))
    hebbian_step(conv, x, lr=0.5, temperature=0.2, keep_norm=True)
    w1 = conv.weight.view(4, -1)
    torch.testing.assert_close(w1.norm(dim=1), (w0 + 0.5 * soft_hebbian_delta(w0, patches, 0.2)).norm(dim=1))


def test_entropy_by_hand() -> None:
    logits = torch.tensor([[0.0, 0.0], [10.0, -10.0]])
    assert float(entropy(logits)) == pytest.approx(0.5 * torch.log(torch.tensor(2.0)).item(), abs=1e-6)


def test_adaptation_touches_the_first_layer_and_the_modulator_only() -> None:
    torch.manual_seed(0)
    source = NHLNet(tiny())
    adapter = StreamAdapter(source, tiny())
    frozen = {k: v.clone() for k, v in adapter.model.state_dict().items()}
    adapter.step(torch.rand(16, 1, 8, 8))
    changed = {k for k, v in adapter.model.state_dict().items() if not torch.equal(v, frozen[k])}
    assert changed == {"conv1.weight", "modulator.weight", "modulator.bias"}
    assert adapter.model.bn1.training and adapter.model.bn1.running_mean is None  # test-batch statistics
    assert all(torch.equal(v, source.state_dict()[k]) for k, v in frozen.items())  # the source model is untouched
    trainable = {n for n, p in adapter.model.named_parameters() if p.requires_grad}
    assert trainable == {"modulator.weight", "modulator.bias"}
    # the "source" baseline keeps the source model as it is: running statistics, same predictions
    baseline = StreamAdapter(source, dataclasses.replace(tiny(), adapt="source"))
    x = torch.rand(16, 1, 8, 8)
    assert baseline.model.bn1.running_mean is not None and baseline.optimizer is None
    source.eval()
    with torch.no_grad():
        assert torch.equal(baseline.step(x), source(x).argmax(1))


def test_corruption_is_seeded_and_changes_the_images() -> None:
    images = torch.rand(4, 1, 8, 8)
    config = dataclasses.replace(tiny(), corruption="noise+blur", noise_std=0.3)
    assert torch.equal(corrupt(images, config), corrupt(images, config))
    assert float((corrupt(images, config) - images).abs().mean()) > 0.1


def test_adapts_on_a_corrupted_stream_without_labels_and_beats_the_source_model() -> None:
    model = zoo.build("nhl-tiny")
    zoo.train(model, zoo.make_data(model, "digits", "train"), steps=250, progress=False)
    stream = zoo.make_data(model, "digits", "test")  # noisy digits; labels only score the predictions
    result = zoo.evaluate(model, stream)
    assert result["accuracy"] > result["source_accuracy"] + 0.08, result
