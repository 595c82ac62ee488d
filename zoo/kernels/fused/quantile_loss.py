"""Fused pairwise pinball (quantile) loss: never builds the [H, K, M, N] difference tensor.

Every prediction ``p`` (with its fraction ``τ``) is compared with a group of targets ``t`` (all targets for
``pairing="all"``, its own column for ``"matched"``). The forward streams the targets in chunks and writes, per
prediction, ``Σ_t ρ_τ(t - p)`` and ``#{t < p}``. Since ``∂ρ_τ(t - p)/∂p = -(τ - 1[t < p])``, the prediction
gradient is ``-(B τ - count)`` (no second pass); the target gradient ``Σ_p (τ_p - 1[t < p])`` is one counting pass
with the roles swapped.
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch.autograd.function import once_differentiable

from ._common import acc_dtype, cdiv, next_pow2, tl_dtype


@triton.jit
def _pinball_fwd(
    p_ptr, tau_ptr, t_ptr, sum_ptr, cnt_ptr, n_a, n_b,
    ACC: tl.constexpr, BLOCK_A: tl.constexpr, BLOCK_B: tl.constexpr,
):
    g = tl.program_id(1)
    a = tl.program_id(0) * BLOCK_A + tl.arange(0, BLOCK_A)
    a_ok = a < n_a
    p = tl.load(p_ptr + g * n_a + a, mask=a_ok, other=0.0).to(ACC)
    tau = tl.load(tau_ptr + g * n_a + a, mask=a_ok, other=0.0).to(ACC)
    total = tl.zeros([BLOCK_A], ACC)
    count = tl.zeros([BLOCK_A], ACC)
    for start in range(0, n_b, BLOCK_B):
        b = start + tl.arange(0, BLOCK_B)
        b_ok = b < n_b
        t = tl.load(t_ptr + g * n_b + b, mask=b_ok, other=0.0).to(ACC)
        u = t[None, :] - p[:, None]
        neg = (u < 0) & b_ok[None, :]
        rho = u * (tau[:, None] - neg.to(ACC))
        total += tl.sum(tl.where(b_ok[None, :], rho, 0.0), axis=1)
        count += tl.sum(neg.to(ACC), axis=1)
    tl.store(sum_ptr + g * n_a + a, total, mask=a_ok)
    tl.store(cnt_ptr + g * n_a + a, count, mask=a_ok)


@triton.jit
def _count_greater(
    x_ptr, y_ptr, out_ptr, n_x, n_y,
    ACC: tl.constexpr, BLOCK_X: tl.constexpr, BLOCK_Y: tl.constexpr,
):
    """``out[g, i] = #{j : y[g, j] > x[g, i]}``."""
    g = tl.program_id(1)
    i = tl.program_id(0) * BLOCK_X + tl.arange(0, BLOCK_X)
    i_ok = i < n_x
    x = tl.load(x_ptr + g * n_x + i, mask=i_ok, other=0.0).to(ACC)
    count = tl.zeros([BLOCK_X], ACC)
    for start in range(0, n_y, BLOCK_Y):
        j = start + tl.arange(0, BLOCK_Y)
        j_ok = j < n_y
        y = tl.load(y_ptr + g * n_y + j, mask=j_ok, other=0.0).to(ACC)
        gt = (y[None, :] > x[:, None]) & j_ok[None, :]
        count += tl.sum(gt.to(ACC), axis=1)
    tl.store(out_ptr + g * n_x + i, count, mask=i_ok)


_BLOCK_A = 32
_BLOCK_B = 128


def _groups(target: torch.Tensor, pred: torch.Tensor, taus: torch.Tensor, pairing: str
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Contiguous ``(P[G, A], TAU[G, A], T[G, B])``: the predictions of each group and the targets they meet."""
    k, n = pred.shape
    if pairing == "matched":
        return (pred.t().contiguous(), taus[:, None].expand(n, k).contiguous(), target.t().contiguous())
    return (pred.reshape(1, k * n).contiguous(), taus[None, :].expand(k, n).reshape(1, k * n).contiguous(),
            target.reshape(1, -1).contiguous())


class _QuantileLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, target: torch.Tensor, pred: torch.Tensor, taus: torch.Tensor,  # type: ignore[override]
                pairing: str) -> torch.Tensor:
        acc = acc_dtype(target.dtype, pred.dtype, taus.dtype)
        p, tau, t = _groups(target, pred, taus, pairing)
        n_groups, n_a = p.shape
        n_b = t.shape[1]
        sums = torch.empty((n_groups, n_a), dtype=acc, device=pred.device)
        counts = torch.empty((n_groups, n_a), dtype=acc, device=pred.device)
        _pinball_fwd[(cdiv(n_a, _BLOCK_A), n_groups)](
            p, tau, t, sums, counts, n_a, n_b,
            ACC=tl_dtype(acc), BLOCK_A=_BLOCK_A, BLOCK_B=min(_BLOCK_B, next_pow2(n_b, 16)),
        )
        ctx.save_for_backward(target, pred, taus, counts)
        ctx.pairing = pairing
        ctx.scale = 1.0 / (target.shape[0] * pred.shape[0])
        return sums.sum() * ctx.scale

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_loss: torch.Tensor):  # type: ignore[override]
        target, pred, taus, counts = ctx.saved_tensors
        acc = counts.dtype
        w = grad_loss.to(acc) * ctx.scale
        p, tau, t = _groups(target, pred, taus, ctx.pairing)
        n_groups, n_a = p.shape
        n_b = t.shape[1]
        k, n = pred.shape
        grad_p = -w * (tau.to(acc) * n_b - counts)
        grad_pred = grad_p.t() if ctx.pairing == "matched" else grad_p.reshape(k, n)
        greater = torch.empty((n_groups, n_b), dtype=acc, device=pred.device)
        _count_greater[(cdiv(n_b, _BLOCK_A), n_groups)](
            t, p, greater, n_b, n_a,
            ACC=tl_dtype(acc), BLOCK_X=_BLOCK_A, BLOCK_Y=min(_BLOCK_B, next_pow2(n_a, 16)),
        )
        grad_t = w * (tau.to(acc).sum(1, keepdim=True) - greater)
        grad_target = grad_t.t() if ctx.pairing == "matched" else grad_t.reshape(target.shape)
        return grad_target.to(target.dtype), grad_pred.to(pred.dtype), None, None


def quantile_loss(target: torch.Tensor, pred: torch.Tensor, taus: torch.Tensor, pairing: str = "all"
                  ) -> torch.Tensor:
    """Triton pairwise pinball loss (see :func:`zoo.kernels.ops.quantile_loss`)."""
    return _QuantileLoss.apply(target, pred, taus, pairing)
