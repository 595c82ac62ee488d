"""Fused mean-shift step, flash-style: the [S, N] distance/weight matrix is never stored.

Program (seed block, feature block) streams the points in chunks: for each chunk it computes the exact squared
distances ``Σ (m - x)²`` over all features, the weights (flat ``1[d ≤ h²]`` or Gaussian ``exp(-d / 2h²)``), and
accumulates the weight mass, the in-bandwidth count and ``Σ w x`` for its feature block. Forward only: mean-shift
is a clustering iteration, its results are not differentiated.
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl

from ._common import acc_dtype, cdiv, next_pow2, tl_dtype


@triton.jit
def _mean_shift_step(
    m_ptr, x_ptr, new_ptr, cnt_ptr, n_s, n_x, n_d, h2, inv_two_h2,
    GAUSSIAN: tl.constexpr, ACC: tl.constexpr,
    BLOCK_S: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr, BLOCK_D: tl.constexpr,
):
    s = tl.program_id(0) * BLOCK_S + tl.arange(0, BLOCK_S)
    s_ok = s < n_s
    dcols = tl.program_id(1) * BLOCK_D + tl.arange(0, BLOCK_D)
    d_ok = dcols < n_d
    mass = tl.zeros([BLOCK_S], ACC)
    count = tl.zeros([BLOCK_S], ACC)
    acc = tl.zeros([BLOCK_S, BLOCK_D], ACC)
    for start in range(0, n_x, BLOCK_N):
        n = start + tl.arange(0, BLOCK_N)
        n_ok = n < n_x
        dist = tl.zeros([BLOCK_S, BLOCK_N], ACC)
        for k0 in range(0, n_d, BLOCK_K):
            k = k0 + tl.arange(0, BLOCK_K)
            k_ok = k < n_d
            m = tl.load(m_ptr + s[:, None] * n_d + k[None, :], mask=s_ok[:, None] & k_ok[None, :], other=0.0)
            x = tl.load(x_ptr + n[:, None] * n_d + k[None, :], mask=n_ok[:, None] & k_ok[None, :], other=0.0)
            diff = m.to(ACC)[:, None, :] - x.to(ACC)[None, :, :]
            dist += tl.sum(diff * diff, axis=2)
        within = (dist <= h2) & n_ok[None, :]
        if GAUSSIAN:
            w = tl.where(n_ok[None, :], tl.exp(-dist * inv_two_h2), 0.0)
        else:
            w = within.to(ACC)
        mass += tl.sum(w, axis=1)
        count += tl.sum(within.to(ACC), axis=1)
        xd = tl.load(x_ptr + n[:, None] * n_d + dcols[None, :], mask=n_ok[:, None] & d_ok[None, :], other=0.0)
        acc += tl.sum(w[:, :, None] * xd.to(ACC)[None, :, :], axis=1)
    ok = s_ok[:, None] & d_ok[None, :]
    old = tl.load(m_ptr + s[:, None] * n_d + dcols[None, :], mask=ok, other=0.0).to(ACC)
    safe = tl.where(mass > 0, mass, 1.0)
    new = tl.where((mass > 0)[:, None], acc / safe[:, None], old)
    tl.store(new_ptr + s[:, None] * n_d + dcols[None, :], new.to(new_ptr.dtype.element_ty), mask=ok)
    if tl.program_id(1) == 0:
        tl.store(cnt_ptr + s, count.to(tl.int64), mask=s_ok)


def mean_shift(
    means: torch.Tensor, points: torch.Tensor, bandwidth: float, kernel: str = "flat"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Triton mean-shift step (see :func:`zoo.kernels.ops.mean_shift`)."""
    acc = acc_dtype(means.dtype, points.dtype)
    m = means.detach().to(acc).contiguous()
    x = points.detach().to(acc).contiguous()
    n_s, n_d = m.shape
    new = torch.empty_like(m)
    counts = torch.empty(n_s, dtype=torch.int64, device=m.device)
    block_s, block_n = 16, 16
    block_k = min(next_pow2(n_d, 16), 32)
    block_d = min(next_pow2(n_d, 16), 32)
    h2 = float(bandwidth) ** 2
    _mean_shift_step[(cdiv(n_s, block_s), cdiv(n_d, block_d))](
        m, x, new, counts, n_s, x.shape[0], n_d, h2, 1.0 / (2.0 * h2),
        GAUSSIAN=kernel == "gaussian", ACC=tl_dtype(acc),
        BLOCK_S=block_s, BLOCK_N=block_n, BLOCK_K=block_k, BLOCK_D=block_d,
    )
    return new.to(means.dtype), counts
