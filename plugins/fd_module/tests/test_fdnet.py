"""FDNet: the FD formula (Eqs. 2-5) on hand-computed tensors, the exact block computation of Table 2 in basic and
bottleneck blocks, the drop-in on timm backbones (same parameters, same keys), the paper's sizes (Table 5 and the
CIFAR ResNets), and a training experiment on digits."""
from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import zoo
import zoo.testing
from zoo.compat import import_timm
from zoo.errors import InputError
from zoo_plugins.fd_module.config import cifar, tiny
from zoo_plugins.fd_module.experiments import count_complexity
from zoo_plugins.fd_module.layers import FDMask, fd_gate, feature_difference
from zoo_plugins.fd_module.model import add_fd, build, fd_blocks

sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def test_conforms() -> None:
    zoo.testing.check_method("fdnet")


# ------------------------------------------------------------------------------------------- the formula


def test_fd_formula_on_a_hand_computed_tensor() -> None:
    """X = 0: d = F; smooth(0.5) = 0.125 (quadratic branch), smooth(3) = 2.5, smooth(-2) = 1.5 (linear branch),
    smooth(0) = 0 -> mask 0.5; refined = sigmoid(D) * F."""
    f = torch.tensor([[0.5, 3.0], [-2.0, 0.0]]).view(1, 1, 2, 2)
    x = torch.zeros_like(f)
    d = [0.125, 2.5, 1.5, 0.0]
    assert feature_difference(f, x).flatten().tolist() == pytest.approx(d)
    mask = [sig(v) for v in d]
    assert FDMask()(f, x).flatten().tolist() == pytest.approx(mask)
    assert fd_gate()(f, x).flatten().tolist() == pytest.approx([m * v for m, v in zip(mask, [0.5, 3.0, -2.0, 0.0])])
    # the difference, not the values, drives the mask: X = F - 0.5 everywhere gives 0.125 everywhere
    assert feature_difference(f, f - 0.5).flatten().tolist() == pytest.approx([0.125] * 4)
    # beta moves the quadratic/linear boundary: with beta = 2, smooth(1) = 0.25 and smooth(3) = 2
    assert feature_difference(torch.tensor([1.0, 3.0]), torch.zeros(2), beta=2.0).tolist() == pytest.approx([0.25, 2])


def test_mask_is_in_half_to_one_and_gradients_reach_both_inputs() -> None:
    f = torch.randn(2, 3, 4, 4, requires_grad=True)
    x = torch.randn(2, 3, 4, 4, requires_grad=True)
    m = FDMask()(f, x)
    assert bool((m >= 0.5).all()) and bool((m < 1).all())
    assert torch.equal(FDMask()(f, f.detach()), torch.full_like(m, 0.5))
    fd_gate()(f, x).sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0  # the mask is not detached
    with pytest.raises(InputError, match="keeps the size"):
        FDMask()(f, x[:, :, :2])


# ------------------------------------------------------------------------------------ blocks (Table 2)


def _refined(f2: torch.Tensor, f1: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(F.smooth_l1_loss(f2, f1, reduction="none")) * f2


def test_basic_block_computes_fd_of_the_two_convolutions() -> None:
    from timm.models.resnet import BasicBlock

    import_timm()
    torch.manual_seed(0)
    block = BasicBlock(4, 4).eval()
    for bn in (block.bn1, block.bn2):
        nn.init.uniform_(bn.weight, 0.5, 1.5)
    x = torch.randn(2, 4, 5, 5)
    with torch.no_grad():
        f1 = block.act1(block.bn1(block.conv1(x)))
        f2 = block.bn2(block.conv2(f1))
        expected = torch.relu(_refined(f2, f1) + x)
        plain = block(x)
        add_fd(block)
        assert torch.allclose(block(x), expected, atol=1e-6)
        assert not torch.allclose(plain, expected)


def test_bottleneck_refines_the_3x3_output_and_skips_strided_blocks() -> None:
    timm = import_timm()
    torch.manual_seed(0)
    net = timm.create_model("resnet50", pretrained=False, num_classes=10).eval()
    plain_first_strided = None
    x = torch.randn(1, 64, 8, 8)
    block = net.layer1[0]
    with torch.no_grad():
        f1 = block.act1(block.bn1(block.conv1(x)))
        f2 = block.bn2(block.conv2(f1))
        y = block.act2(_refined(f2, f1))
        expected = block.act3(block.bn3(block.conv3(y)) + block.downsample(x))
        strided = net.layer2[0]
        z = torch.randn(1, 256, 8, 8)
        plain_first_strided = strided(z)
        add_fd(net)
        assert torch.allclose(block(x), expected, atol=1e-5)
        assert torch.equal(strided(z), plain_first_strided)  # the strided 3x3 changes the size: no FD
    assert len(fd_blocks(net)) == 16


def test_drop_in_on_a_timm_backbone_keeps_parameters_and_keys() -> None:
    timm = import_timm()
    torch.manual_seed(0)
    plain = timm.create_model("resnet18", pretrained=False, num_classes=5).eval()
    fd = add_fd(timm.create_model("resnet18", pretrained=False, num_classes=5)).eval()
    for m in plain.modules():  # timm zero-initialises the last BN of each block: give it weights, as if trained
        if isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight, 0.5, 1.5)
    fd.load_state_dict(plain.state_dict(), strict=True)  # pretrained timm weights load unchanged
    assert n_params(fd) == n_params(plain) and list(fd.state_dict()) == list(plain.state_dict())
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        assert not torch.allclose(fd(x), plain(x))
    assert len(fd_blocks(fd)) == 8
    add_fd(fd)  # idempotent
    assert len(fd_blocks(fd)) == 8


def test_deepcopy_keeps_working_hooks() -> None:
    import copy

    model = zoo.build("fdnet-tiny", seed=0).eval()
    twin = copy.deepcopy(model)
    x = torch.rand(3, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(model(x), twin(x))
        for block in fd_blocks(twin):
            block.fd.mask.beta = 5.0
        assert not torch.equal(model(x), twin(x))  # the copy's hooks use the copy's gates


# --------------------------------------------------------------------------------------- paper sizes


def test_paper_variant_sizes_table_5() -> None:
    """ResNet-50 25.56M = FDNet; SENet 28.09M = SENet + FD (Table 5); FD adds no multiply-accumulate."""
    plain, with_fd = count_complexity("resnet50", False), count_complexity("resnet50", True)
    assert plain["params"] == with_fd["params"] == 25_557_032
    assert plain["macs"] == with_fd["macs"]
    # 13 of the 16 bottlenecks are refined (3 strided ones are not): 64*56^2*3 + 128*28^2*3 + 256*14^2*5 + 512*7^2*2
    assert with_fd["fd_elements"] == 64 * 56 ** 2 * 3 + 128 * 28 ** 2 * 3 + 256 * 14 ** 2 * 5 + 512 * 7 ** 2 * 2
    with torch.device("meta"):
        paper = zoo.build("fdnet-paper")
        se_fd = zoo.build("fdnet-se-fd")
    assert n_params(paper) == 25_557_032 and len(fd_blocks(paper)) == 16
    se = sum(2 * c * (c // 16) + c // 16 + c for c, n in ((256, 3), (512, 4), (1024, 6), (2048, 3))
             for _ in range(n))
    assert n_params(se_fd) == 25_557_032 + se == 28_088_024
    assert zoo.get_config("fdnet-paper").image_size == 224


def test_cifar_resnet_sizes_table_1() -> None:
    """He et al.'s CIFAR ResNets: 0.66M (44), 0.85M (56), 1.7M (110); FD adds nothing."""
    sizes = {d: n_params(build(replace(cifar(), depth=d))) for d in (44, 56)}
    assert sizes == {44: 661_338, 56: 855_770}
    with torch.device("meta"):
        assert n_params(zoo.build("fdnet-cifar")) == n_params(build(replace(cifar(), fd=False))) == 1_730_714
    assert zoo.get_config("fdnet-cifar").blocks_per_stage == 18


# ---------------------------------------------------------------------------------------- experiment


def test_fd_resnet_learns_digits_and_reports_masks() -> None:
    model = zoo.build("fdnet-tiny", seed=0)
    zoo.train(model, zoo.make_data(model, "digits", "train"), steps=150, seed=0, progress=False)
    metrics = zoo.evaluate(model, zoo.make_data(model, "digits", "test"))
    assert metrics["accuracy"] > 0.85  # 10 classes
    out = zoo.infer(model, {"image": zoo.make_data(model, "digits", "test").images[:4]}, masks=True)
    means = out["mask_means"]
    assert means.shape == (4, 3) and bool((means > 0.5).all()) and bool((means < 1).all())
    assert "mask_means" not in zoo.infer(model, {"image": torch.rand(1, 1, 8, 8)})


def test_wrong_size_is_an_input_error() -> None:
    model = zoo.build("fdnet-tiny")
    with pytest.raises(InputError, match=r"\(B, 1, 8, 8\)"):
        zoo.infer(model, {"image": torch.rand(1, 1, 9, 9)})
    assert tiny().depth == 8
