"""zoo.layers.attention against hand computations, against timm's implementations (same weights copied in), and
pinned parameter counts."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from zoo.compat import import_timm
from zoo.errors import ConfigError
from zoo.layers.attention import (
    CBAM,
    CBAMChannel,
    CoordinateAttention,
    EfficientChannel,
    PoolConvMask,
    SpatialGate,
    SqueezeExcitation,
    channel_attention,
    eca_kernel_size,
)


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def sample(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


# --------------------------------------------------------------------------------------------- hand-computed


def test_se_hand_values() -> None:
    """C=2, hidden=1: z = GAP(x); h = relu(w1 . z + b1); s = sigmoid(w2 h + b2)."""
    se = SqueezeExcitation(2, hidden=1)
    with torch.no_grad():
        se.fc1.weight.copy_(torch.tensor([1.0, -2.0]).view(1, 2, 1, 1))
        se.fc1.bias.fill_(0.5)
        se.fc2.weight.copy_(torch.tensor([2.0, -1.0]).view(2, 1, 1, 1))
        se.fc2.bias.copy_(torch.tensor([0.0, 1.0]))
    x = torch.tensor([[[[1.0, 3.0]], [[-1.0, -1.0]]]])  # [1, 2, 1, 2]: GAP = (2, -1)
    h = max(0.0, 1 * 2 + (-2) * (-1) + 0.5)  # 4.5
    s = torch.sigmoid(torch.tensor([2 * h + 0.0, -1 * h + 1.0]))
    assert torch.allclose(se.gate(x).flatten(), s)
    assert torch.allclose(se(x), x * s.view(1, 2, 1, 1))


def test_eca_hand_values_and_adaptive_kernel() -> None:
    assert [eca_kernel_size(c) for c in (2, 16, 64, 256, 512, 1024, 2048)] == [1, 3, 3, 5, 5, 5, 7]
    eca = EfficientChannel(4, kernel_size=3)
    with torch.no_grad():
        eca.conv.weight.copy_(torch.tensor([1.0, 0.0, -1.0]).view(1, 1, 3))
    y = torch.tensor([1.0, 2.0, 4.0, 8.0])  # the pooled channel descriptor
    x = y.view(1, 4, 1, 1).expand(1, 4, 3, 3).clone()
    # cross-correlation with zero padding: out_c = y_{c-1} - y_{c+1}
    expected = torch.sigmoid(torch.tensor([0 - 2.0, 1 - 4.0, 2 - 8.0, 4 - 0.0]))
    assert torch.allclose(eca.gate(x).flatten(), expected)
    with pytest.raises(ConfigError, match="odd"):
        EfficientChannel(4, kernel_size=4)


def test_cbam_channel_sums_avg_and_max_branches() -> None:
    gate = CBAMChannel(2, reduction=2, bias=False)  # hidden 1
    with torch.no_grad():
        gate.fc1.weight.copy_(torch.tensor([1.0, 1.0]).view(1, 2, 1, 1))
        gate.fc2.weight.copy_(torch.tensor([1.0, -1.0]).view(2, 1, 1, 1))
    x = torch.tensor([[[[0.0, 4.0]], [[2.0, 2.0]]]])  # avg (2, 2) -> h = 4; max (4, 2) -> h = 6
    expected = torch.sigmoid(torch.tensor([4.0 + 6.0, -4.0 - 6.0]))
    assert torch.allclose(gate.gate(x).flatten(), expected)


def test_pool_conv_mask_is_a_conv_of_mean_and_max() -> None:
    mask = PoolConvMask((1, 3))
    with torch.no_grad():
        mask.convs[0].weight.copy_(torch.tensor([2.0, -1.0]).view(1, 2, 1, 1))
        mask.convs[0].bias.fill_(0.25)
        mask.convs[1].weight.zero_()
        mask.convs[1].weight[0, 1, 1, 1] = 0.5  # centre tap on the max map
        mask.convs[1].bias.fill_(-0.5)
    x = sample(1, 3, 4, 5)
    mean, mx = x.mean(1, keepdim=True), x.amax(1, keepdim=True)
    expected = torch.sigmoid(2 * mean - mx + 0.25 + 0.5 * mx - 0.5)
    assert torch.allclose(mask(x), expected, atol=1e-6)
    with pytest.raises(ConfigError):
        PoolConvMask((4,))


def test_spatial_gate_takes_any_mask_generator_and_context() -> None:
    x = sample(2, 3, 4, 4)
    other = sample(2, 3, 4, 4, seed=1)
    gate = SpatialGate(lambda a, b: torch.sigmoid(b - a), keep_mask=True)
    out = gate(x, other)
    assert torch.allclose(out, x * torch.sigmoid(other - x))
    assert gate.last_mask is not None and torch.allclose(gate.last_mask, torch.sigmoid(other - x))
    ones = SpatialGate(lambda a: torch.ones_like(a[:, :1]))
    assert torch.equal(ones(x), x)


def test_coordinate_attention_gates_factor_over_rows_and_columns() -> None:
    """With the shared transform fixed to the identity, g_h depends only on the row means, g_w on the columns."""
    ca = CoordinateAttention(8, reduction=1, min_hidden=8).eval()
    with torch.no_grad():
        for conv in (ca.conv1, ca.conv_h, ca.conv_w):
            conv.weight.copy_(torch.eye(8).view(8, 8, 1, 1))
            conv.bias.zero_()
    ca.act = nn.Identity()  # BN in eval with fresh statistics is the identity up to eps
    x = sample(1, 8, 3, 5)
    g_h, g_w = ca.gates(x)
    scale = 1 / math.sqrt(1 + 1e-5)
    assert torch.allclose(g_h, torch.sigmoid(x.mean(3, keepdim=True) * scale), atol=1e-6)
    assert torch.allclose(g_w, torch.sigmoid(x.mean(2, keepdim=True) * scale), atol=1e-6)
    assert torch.allclose(ca(x), x * g_h * g_w)


# ------------------------------------------------------------------------------- against timm's definitions


def _copy(dst: nn.Module, src: nn.Module) -> None:
    dst_params = list(dst.state_dict().values())
    src_params = list(src.state_dict().values())
    assert [p.shape for p in dst_params] == [p.shape for p in src_params]
    with torch.no_grad():
        for a, b in zip(dst_params, src_params):
            a.copy_(b)


def _randomise(module: nn.Module) -> None:
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)


@pytest.fixture(scope="module")
def timm_layers():
    return import_timm().layers


def test_se_equals_timm(timm_layers) -> None:
    ours, ref = SqueezeExcitation(64, reduction=16), timm_layers.SEModule(64, rd_channels=4)
    _randomise(ref)
    _copy(ours, ref)
    x = sample(2, 64, 5, 6)
    assert torch.allclose(ours(x), ref(x), atol=1e-6)


def test_eca_equals_timm(timm_layers) -> None:
    ours, ref = EfficientChannel(256), timm_layers.EcaModule(256)
    assert ours.conv.kernel_size == ref.conv.kernel_size == (5,)
    _randomise(ref)
    _copy(ours, ref)
    x = sample(2, 256, 3, 3)
    assert torch.allclose(ours(x), ref(x), atol=1e-6)


def test_cbam_equals_timm(timm_layers) -> None:
    from timm.layers.cbam import CbamModule

    ours, ref = CBAM(32, reduction=16, bias=False, norm=True).eval(), CbamModule(32, rd_ratio=1 / 16).eval()
    _randomise(ref)
    _copy(ours, ref)
    x = sample(2, 32, 6, 7)
    assert torch.allclose(ours(x), ref(x), atol=1e-5)


def test_coordinate_attention_equals_timm(timm_layers) -> None:
    from timm.layers.coord_attn import CoordAttn

    ours = CoordinateAttention(64).eval()  # mip = max(8, 64 // 32) = 8
    ref = CoordAttn(64, rd_channels=8, bias=True, act_layer=nn.Hardswish).eval()
    _randomise(ref)
    with torch.no_grad():
        ref.bn1.running_var.uniform_(0.5, 2.0)
        ref.bn1.running_mean.uniform_(-1.0, 1.0)
    _copy(ours, ref)
    x = sample(2, 64, 5, 7)
    assert torch.allclose(ours(x), ref(x), atol=1e-5)


# --------------------------------------------------------------------------------------- parameter counts


def test_parameter_counts() -> None:
    assert n_params(SqueezeExcitation(64)) == 2 * 64 * 4 + 4 + 64 == 580
    assert n_params(SqueezeExcitation(2048)) == 2 * 2048 * 128 + 128 + 2048
    assert n_params(EfficientChannel(2048)) == 7
    assert n_params(CBAMChannel(64)) == 580
    assert n_params(CBAM(64)) == 580 + 2 * 49 + 1
    assert n_params(CBAM(64, bias=False, norm=True)) == 2 * 64 * 4 + 2 * 49 + 2
    assert n_params(CoordinateAttention(64)) == (64 * 8 + 8) + 2 * 8 + 2 * (8 * 64 + 64) == 1688
    assert n_params(PoolConvMask((5, 7, 9))) == 2 * (25 + 49 + 81) + 3


@pytest.mark.parametrize("kind", ["se", "eca", "cbam", "cbam_channel", "coord"])
def test_every_gate_keeps_the_shape_and_scales_by_at_most_one(kind: str) -> None:
    gate = channel_attention(kind, 32).eval()
    x = sample(2, 32, 6, 5).abs()
    y = gate(x)
    assert y.shape == x.shape and bool((y <= x + 1e-6).all()) and bool((y >= 0).all())


def test_unknown_kind_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="se, eca"):
        channel_attention("nope", 8)
