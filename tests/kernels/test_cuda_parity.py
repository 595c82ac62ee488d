"""GPU parity of the compiled Triton kernels at moderate sizes (skipped without CUDA; CI has none).

Run on a GPU machine with the interpreter off:  TRITON_INTERPRET=0 pytest -m gpu tests/kernels
"""
from __future__ import annotations

import os

import pytest
import torch

from zoo.kernels import SMPL_FOOT_JOINTS, SMPL_PARENTS, choose, ops
from zoo.kernels import reference as ref

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
    pytest.mark.skipif(os.environ.get("TRITON_INTERPRET") == "1", reason="run with TRITON_INTERPRET=0 on a GPU"),
]

DTYPES = [torch.float32, torch.bfloat16, torch.float16]
TOL = {torch.float32: 1e-4, torch.bfloat16: 3e-2, torch.float16: 3e-3, torch.float64: 1e-9}


@pytest.fixture(autouse=True)
def _triton(monkeypatch):
    monkeypatch.setenv("ZOO_KERNELS", "triton")


def _grads(fn, inputs, weights=None):
    leaves = [x.detach().clone().requires_grad_() for x in inputs]
    out = fn(*leaves)
    flat = list(out.values()) if isinstance(out, dict) else [out[0] if isinstance(out, tuple) else out]
    total = sum((o.float() * (weights[i] if weights else 1.0)).sum() for i, o in enumerate(flat))
    total.backward()
    return out, [leaf.grad for leaf in leaves]


def _check(fused_out: torch.Tensor, ref_out: torch.Tensor, dtype: torch.dtype) -> None:
    torch.testing.assert_close(fused_out.double(), ref_out.double(), atol=TOL[dtype], rtol=TOL[dtype])


def test_auto_picks_triton_on_cuda(monkeypatch):
    monkeypatch.setenv("ZOO_KERNELS", "auto")
    assert choose("mix", torch.device("cuda"), torch.float32).implementation.name == "triton"


@pytest.mark.parametrize("dtype", DTYPES)
def test_info_nce(dtype):
    x = torch.randn(4099, 65, device="cuda").to(dtype)
    fo, (fg,) = _grads(lambda z: ops.info_nce(z, 0.07), [x])
    ro, (rg,) = _grads(lambda z: ref.info_nce(z, 0.07), [x])
    _check(fo, ro, dtype)
    _check(fg.float(), rg.float(), dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_l2_topk(dtype):
    q, x = torch.randn(300, 96, device="cuda").to(dtype), torch.randn(20000, 96, device="cuda").to(dtype)
    dist, idx = ops.l2_topk(q, x, 16)
    ref_dist, ref_idx = ref.l2_topk(q, x, 16)
    assert (idx == ref_idx).float().mean() > 0.999  # ties aside
    torch.testing.assert_close(dist, ref_dist, atol=1e-3, rtol=1e-4)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("length", [750, 3000])  # one-pass and streaming paths
def test_group_modulation(dtype, length):
    h = torch.randn(4, length, 512, device="cuda").to(dtype) * 2 + 3
    mask = torch.rand(4, length, device="cuda") > 0.3
    s, t = torch.randn(4, 512, device="cuda").to(dtype), torch.randn(4, 512, device="cuda").to(dtype)
    fused = _grads(lambda a, b, c: ops.group_modulation(a, mask, b, c), [h, s, t])
    expect = _grads(lambda a, b, c: ref.group_modulation(a, mask, b, c), [h, s, t])
    _check(fused[0].float(), expect[0].float(), dtype)
    for a, b in zip(fused[1], expect[1]):
        torch.testing.assert_close(a.double(), b.double(), atol=50 * TOL[dtype], rtol=50 * TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_mix(dtype):
    w = torch.softmax(torch.randn(32, 32, device="cuda"), 1)
    b = torch.randn(32, 100_003, device="cuda").to(dtype)
    expected = ref.mix(w, b)
    torch.testing.assert_close(ops.mix(w, b).double(), expected.double(), atol=TOL[dtype], rtol=TOL[dtype])
    ops.mix(w, b, out=b)  # in place
    torch.testing.assert_close(b.double(), expected.double(), atol=TOL[dtype], rtol=TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_geometry_and_losses(dtype):
    x = torch.randn(8, 5, 40, 24, 6, device="cuda").to(dtype)
    for convention in ("columns", "rows"):
        fo, fg = _grads(lambda z, c=convention: ops.rot6d_to_matrix(z, c), [x])
        ro, rg = _grads(lambda z, c=convention: ref.rot6d_to_matrix(z, c), [x])
        _check(fo.float(), ro.float(), dtype)
        _check(fg[0].float(), rg[0].float(), dtype)
    rot = ref.rot6d_to_matrix(x.float())
    root, off = torch.randn(8, 5, 40, 3, device="cuda"), torch.randn(24, 3, device="cuda") * 0.1
    fo, fg = _grads(lambda r, p: ops.forward_kinematics(r, p, off, SMPL_PARENTS), [rot, root])
    ro, rg = _grads(lambda r, p: ref.forward_kinematics(r, p, off, SMPL_PARENTS), [rot, root])
    _check(fo, ro, torch.float32)
    for a, b in zip(fg, rg):
        _check(a, b, torch.float32)
    pred, target = fo.detach().to(dtype), ro.detach().to(dtype) + 0.1
    mask = torch.rand(8, 5, 40, device="cuda") > 0.2
    contact = torch.rand(8, 5, 40, 4, device="cuda") > 0.5
    fl, fgr = _grads(lambda p, g: ops.geometric_losses(p, g, mask, SMPL_FOOT_JOINTS, contact), [pred, target],
                     [1.0, 2.0, 3.0])
    rl, rgr = _grads(lambda p, g: ref.geometric_losses(p, g, mask, SMPL_FOOT_JOINTS, contact), [pred, target],
                     [1.0, 2.0, 3.0])
    for key in fl:
        _check(fl[key].float(), rl[key].float(), dtype)
    for a, b in zip(fgr, rgr):
        _check(a.float(), b.float(), dtype)


@pytest.mark.parametrize("pairing", ["all", "matched"])
def test_quantile_loss(pairing):
    real, fake = torch.randn(256, 32, device="cuda"), torch.randn(200, 32, device="cuda")
    taus = (torch.arange(32, device="cuda") + 0.5) / 32
    fo, fg = _grads(lambda t, p: ops.quantile_loss(t, p, taus, pairing), [real, fake])
    ro, rg = _grads(lambda t, p: ref.quantile_loss(t, p, taus, pairing), [real, fake])
    _check(fo, ro, torch.float32)
    for f, r in zip(fg, rg):
        _check(f, r, torch.float32)


@pytest.mark.parametrize("kernel", ["flat", "gaussian"])
def test_mean_shift(kernel):
    points = torch.randn(3000, 576, device="cuda")
    new, counts = ops.mean_shift(points[:500], points, 24.0, kernel)
    want_new, want_counts = ref.mean_shift(points[:500], points, 24.0, kernel)
    _check(new, want_new, torch.float32)
    assert (counts - want_counts).abs().max() <= 1  # exact Σ(m-x)² vs the GEMM expansion at the boundary
