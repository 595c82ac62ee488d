"""Local learning: gradient isolation, K=1 == backprop, AugLocal/MAN specifics, memory, training on digits."""
from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

import zoo
from zoo.engines.local_learning import (
    LocalNet,
    local_forward_backward,
    local_step,
    local_step_per_module,
    peak_saved_bytes,
    per_module_optimizers,
)
from zoo_plugins.local_learning.aux import (
    AugLocalAux,
    Decoder,
    InfoProAux,
    MANAux,
    auglocal_depth,
    auglocal_sample,
    depth_weight,
)
from zoo_plugins.local_learning.model import auglocal_boundaries


def _batch(n: int = 16, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 8, 8, generator=g), torch.randint(0, 10, (n,), generator=g)


@pytest.mark.parametrize("name", ["dgl-tiny", "dgl-infopro-tiny", "auglocal-tiny", "man-tiny"])
def test_no_gradient_crosses_a_module_boundary(name: str) -> None:
    torch.manual_seed(0)
    net: LocalNet = zoo.build(name)
    reference = copy.deepcopy(net)
    x, y = _batch()
    local_forward_backward(net, x, y)
    for k in range(net.num_modules - 1):
        ref = copy.deepcopy(reference)  # fresh copy: only module k's own local loss may reach its parameters
        with torch.no_grad():
            h = x
            for j in range(k):
                for layer in ref.module_layers(j):
                    h = layer(h)
        for layer in ref.module_layers(k):
            h = layer(h)
        loss, _ = ref.aux[k](h, x, y)
        assert loss.requires_grad, f"module {k} of {name} has no local loss (it would never train)"
        loss.backward()
        for live, expect in zip(net.module_layers(k), ref.module_layers(k)):
            for (pname, p), q in zip(live.named_parameters(), expect.parameters()):
                assert p.grad is not None and q.grad is not None, pname
                torch.testing.assert_close(p.grad, q.grad, rtol=1e-5, atol=1e-7, msg=f"module {k} {pname}")


def test_k1_equals_plain_backprop_exactly() -> None:
    torch.manual_seed(0)
    net: LocalNet = zoo.build("dgl-bp-tiny")
    assert net.num_modules == 1 and len(net.aux) == 0
    plain = copy.deepcopy(net)
    opt_local = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    opt_plain = torch.optim.SGD(plain.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    for seed in range(3):
        x, y = _batch(seed=seed)
        local_step(net, (x, y), opt_local)
        opt_plain.zero_grad()
        nn.functional.cross_entropy(plain(x), y).backward()
        opt_plain.step()
    for (name, a), b in zip(net.state_dict().items(), plain.state_dict().values()):
        assert torch.equal(a, b), name


def test_auglocal_sampling_and_pyramid() -> None:
    # round(l + (L - l - 1) / d * i), i = 1..d
    assert auglocal_sample(0, 16, 2) == [8, 15]
    assert auglocal_sample(4, 16, 3) == [8, 11, 15]
    assert auglocal_sample(13, 16, 3) == [14, 15]  # fewer than d remain: all of them
    assert auglocal_sample(14, 16, 2) == [15] and auglocal_sample(14, 16, 3) == [15]  # never the layer itself
    # d_l = max(1, round(d (1 - l c / (K - 2)) + l c / (K - 2))), c = 0.5: from d down to about d(1-c)+c
    assert [auglocal_depth(3, k, 15, 0.5) for k in (0, 7, 14)] == [3, 2, 2]
    assert auglocal_depth(1, 14, 15, 0.5) == 1
    assert auglocal_depth(3, 0, 1, 0.5) == 3 and auglocal_depth(3, 1, 2, 0.5) == 2  # one / two aux nets
    # K is reduced by d: the last d layers train together with the classifier
    assert auglocal_boundaries(16, 16, 2) == tuple(range(1, 14)) + (16,)
    net = zoo.build("auglocal-tiny")
    assert net.boundaries == (1, 2, 3, 4, 7) and [a.depth for a in net.aux] == [2, 2, 2, 2]


def test_infopro_weights_interpolate_linearly_by_module() -> None:
    assert depth_weight(5.0, 0.2, 0, 16) == 5.0
    assert depth_weight(5.0, 0.2, 14, 16) == pytest.approx(0.2)
    assert depth_weight(0.05, 0.5, 7, 16) == pytest.approx(0.275)
    net = zoo.build("dgl-infopro-tiny")  # K = 7: r = k / 5
    assert [a.ixx for a in net.aux] == pytest.approx([5.0 - 4.8 * k / 5 for k in range(6)])


def test_man_weights_interpolate_by_stage_as_the_reference() -> None:
    # MAN's code: ratio = lo / (local_module_num - 2), lo = stage of the layer after the boundary
    net = zoo.build("man-paper")  # ResNet-32, K = 16, ixx 5 -> 0, ixy 0.5 -> 0
    stages = [1] * 5 + [2] * 5 + [3] * 5  # boundaries before layers 1..15
    assert [a.infopro.ixx for a in net.aux] == pytest.approx([5.0 * (1 - s / 14) for s in stages])
    assert [a.infopro.ixy for a in net.aux] == pytest.approx([0.5 * (1 - s / 14) for s in stages])
    assert min(a.infopro.ixx for a in net.aux) > 3.9  # never reaches the schedule's end (0)


def test_man_last_local_module_trains() -> None:
    torch.manual_seed(0)
    net: LocalNet = zoo.build("man-tiny")
    last = net.num_modules - 2  # the last module that has an auxiliary network
    before = [p.detach().clone() for layer in net.module_layers(last) for p in layer.parameters()]
    opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.1)
    logs = [local_step(net, _batch(seed=s), opt) for s in range(3)]
    assert all(entry[f"local_loss_{last}"] > 0.1 for entry in logs)
    after = [p.detach() for layer in net.module_layers(last) for p in layer.parameters()]
    assert all(not torch.equal(a, b) for a, b in zip(after, before))


def test_man_momentum_copy_updates_after_local_backward_parameters_only() -> None:
    torch.manual_seed(0)
    net: LocalNet = zoo.build("man-tiny")
    aux = net.aux[0]
    assert isinstance(aux, MANAux) and aux.ema_update == "after_local_backward"
    live = net.layers[net.boundaries[0]]
    assert all(not p.requires_grad for p in aux.ema.parameters())
    assert all(p.requires_grad for p in aux.lb.parameters())
    ema0 = [p.detach().clone() for p in aux.ema.parameters()]  # initialised on its own, as in the reference
    theta0 = [p.detach().clone() for p in live.parameters()]
    opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.5)
    local_step(net, _batch(seed=0), opt)
    m = aux.momentum
    for e, new, p, now in zip(ema0, aux.ema.parameters(), theta0, live.parameters()):
        assert not torch.equal(p, now.detach())  # the step moved the live layer...
        torch.testing.assert_close(new, m * e + (1 - m) * p)  # ...and the copy folded in the weights before it
    ema_mean = dict(aux.ema.named_buffers())["bn1.running_mean"]
    assert not torch.equal(ema_mean, dict(live.named_buffers())["bn1.running_mean"])  # buffers are not copied


def test_man_learnable_bias_branch_is_in_the_objective_and_trains() -> None:
    torch.manual_seed(0)
    net: LocalNet = zoo.build("man-tiny")
    aux = net.aux[1]
    h = torch.rand(4, 16, 8, 8)
    x, y = _batch(4)
    loss, _ = aux(h, x, y)
    expected, _ = aux.infopro.objective(aux.lb(h) + aux.ema(h), x, y)
    without_lb, _ = aux.infopro.objective(aux.ema(h), x, y)
    torch.testing.assert_close(loss, expected)
    assert abs(float(loss) - float(without_lb)) > 1e-3
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in aux.lb.parameters() if p.dim() > 1)


def test_infopro_reconstruction_is_sigmoid_bce_as_the_reference() -> None:
    torch.manual_seed(0)
    decoder = Decoder(16, 1)
    # InfoPro's '2c' decoder: conv3x3 to 12 channels (no bias, BN follows), BN, ReLU, conv3x3 to the image
    convs = [m for m in decoder.net if isinstance(m, nn.Conv2d)]
    assert [tuple(c.weight.shape) for c in convs] == [(12, 16, 3, 3), (1, 12, 3, 3)]
    assert convs[0].bias is None and convs[1].bias is not None
    h, image = torch.randn(2, 16, 4, 4), torch.rand(2, 1, 8, 8)
    raw = decoder.net(nn.functional.interpolate(h, size=(8, 8), mode="bilinear", align_corners=True))
    p = torch.sigmoid(raw)
    by_hand = -(image * p.log() + (1 - image) * (1 - p).log()).mean()
    torch.testing.assert_close(decoder.reconstruction_loss(h, image), by_hand)
    assert float(decoder(h, (8, 8)).min()) > 0 and float(decoder(h, (8, 8)).max()) < 1
    mse = Decoder(16, 1, loss="mse")
    mse.load_state_dict(decoder.state_dict())
    torch.testing.assert_close(mse.reconstruction_loss(h, image), nn.functional.mse_loss(raw, image))


def test_infopro_objective_is_the_weighted_sum_by_hand() -> None:
    torch.manual_seed(0)
    aux = InfoProAux(16, 1, 10, ixx=0.7, ixy=0.3)  # weights below 1 and distinct
    assert aux.classifier.fc[2].out_features == 128  # the reference's auxiliary feature dimension
    h, target = torch.randn(4, 16, 4, 4), torch.tensor([0, 3, 9, 3])
    image = torch.rand(4, 1, 8, 8) * 2.0 - 0.5  # outside [0, 1]: the BCE target is the clipped image
    raw = aux.decoder.net(nn.functional.interpolate(h, size=(8, 8), mode="bilinear", align_corners=True))
    rec = nn.functional.binary_cross_entropy(torch.sigmoid(raw), image.clamp(0.0, 1.0))
    ce = nn.functional.cross_entropy(aux.classifier.logits(h), target)
    loss, logs = aux(h, image, target)
    torch.testing.assert_close(loss, 0.7 * rec + 0.3 * ce)
    assert logs["rec"] == pytest.approx(float(rec)) and logs["aux_ce"] == pytest.approx(float(ce))
    aux.ixx, aux.ixy = 0.0, 0.3  # a zero weight drops its term (the decoder is not run)
    torch.testing.assert_close(aux(h, image, target)[0], 0.3 * ce)
    assert aux(h, image, target)[1]["rec"] == 0.0
    aux.ixx, aux.ixy = 0.7, 0.0
    torch.testing.assert_close(aux(h, image, target)[0], 0.7 * rec)
    assert aux(h, image, target)[1]["aux_ce"] == 0.0


def test_auglocal_aux_blocks_downsample_where_the_width_grows() -> None:
    net = zoo.build("auglocal-paper")  # ResNet-32: module 0 ends at the stem (16 ch), samples layers 8 and 15
    aux = net.aux[0]
    assert [b.conv1.stride for b in aux.blocks] == [(2, 2), (2, 2)]
    assert [b.conv1.out_channels for b in aux.blocks] == [32, 64]
    assert aux.blocks(torch.rand(2, 16, 32, 32)).shape == (2, 64, 8, 8)  # 32 -> 16 -> 8, as the backbone
    within = net.aux[6]  # ends in stage 2 (32 channels): one block stays at 32, the next widens to 64
    assert [(b.conv1.out_channels, b.conv1.stride) for b in within.blocks] == [(32, (1, 1)), (64, (2, 2))]
    # the head: pool, (BatchNorm1d only for a single sampled block,) linear classifier
    one, two = AugLocalAux(16, [32], 10), AugLocalAux(16, [32, 64], 10)
    assert [type(m).__name__ for m in one.head] == ["AdaptiveAvgPool2d", "Flatten", "BatchNorm1d", "Linear"]
    assert [type(m).__name__ for m in two.head] == ["AdaptiveAvgPool2d", "Flatten", "Linear"]


def test_local_training_saves_activation_memory() -> None:
    torch.manual_seed(0)
    x, y = _batch(64)
    bp = zoo.build("dgl-bp-tiny")
    local = zoo.build("dgl-tiny")
    bp_bytes = peak_saved_bytes(lambda: local_forward_backward(bp, x, y))
    local_bytes = peak_saved_bytes(lambda: local_forward_backward(local, x, y))
    assert 0 < local_bytes < bp_bytes


def test_per_module_optimizers_step_each_module() -> None:
    torch.manual_seed(0)
    net: LocalNet = zoo.build("dgl-tiny")
    opts = per_module_optimizers(net, lambda params: torch.optim.SGD(params, lr=0.1))
    before = copy.deepcopy(net.state_dict())
    logs = local_step_per_module(net, _batch(), opts)
    assert "loss" in logs and "local_loss_0" in logs
    changed = [k for k, v in net.state_dict().items() if not torch.equal(v, before[k]) and "running" not in k
               and "num_batches" not in k]
    assert any(k.startswith("layers.0.") for k in changed) and any(k.startswith("head.") for k in changed)


@pytest.mark.parametrize("name", ["auglocal-tiny", "man-tiny", "dgl-tiny"])
def test_trains_beyond_chance_on_digits(name: str) -> None:
    # a slimmer ResNet-14 and aux nets (same split, same objectives) so that 50 steps take a second or two
    model = zoo.build(name, widths=(8, 16, 32), aux_feature_dim=32, batch_size=32, warmup_steps=5, lr=0.1)
    zoo.train(model, zoo.make_data(model, "digits", "train"), steps=50, progress=False, seed=0)
    accuracy = zoo.evaluate(model, zoo.make_data(model, "digits", "test"))["accuracy"]
    assert accuracy > 0.5, accuracy  # 10 classes: chance is 0.1 (measured: MAN 0.80, AugLocal 0.92, DGL 0.69)
