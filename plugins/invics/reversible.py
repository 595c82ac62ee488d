"""Memory-saving backpropagation through invertible blocks (the MemCNN idea of InvICS, Sect. 3.3).

:func:`invertible_apply` runs ``y = forward(x, *cond)`` without recording the block's internal activations; in
the backward pass it rebuilds ``x = inverse(y, *cond)`` from the output, re-runs the block with autograd on and
backpropagates through it. Gradients equal those of plain autograd (up to the inverse's round-off), while only the
block's output is kept between forward and backward.

Generic: any block with an exact ``inverse`` can use it. ``cond`` are extra inputs that are not inverted (e.g. the
measurements ``y`` of a gradient step); they receive gradients too. ``params`` are the block's parameters.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

Fn = Callable[..., torch.Tensor]
_FIRST_TENSOR = 4  # forward(ctx, forward_fn, inverse_fn, n_cond, n_params, x, ...): x is input index 4


class _Recompute(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, forward_fn: Fn, inverse_fn: Fn, n_cond: int, n_params: int, x: torch.Tensor,
                *rest: torch.Tensor) -> torch.Tensor:
        cond, params = rest[:n_cond], rest[n_cond:]
        ctx.forward_fn, ctx.inverse_fn, ctx.n_cond, ctx.params = forward_fn, inverse_fn, n_cond, params
        with torch.no_grad():
            y = forward_fn(x, *cond)
        ctx.save_for_backward(y, *cond)
        return y

    @staticmethod
    def backward(ctx: Any, grad_y: torch.Tensor) -> tuple[Any, ...]:
        y, *cond = ctx.saved_tensors
        with torch.no_grad():
            x = ctx.inverse_fn(y, *cond)
        needs = ctx.needs_input_grad[_FIRST_TENSOR + 1:]
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            cond_in = [c.detach().requires_grad_(bool(needs[i])) for i, c in enumerate(cond)]
            out = ctx.forward_fn(x, *cond_in)
            inputs = [x, *cond_in, *ctx.params]
            flags = [True, *(bool(n) for n in needs)]
            chosen = [t for t, f in zip(inputs, flags) if f]
            grads = iter(torch.autograd.grad(out, chosen, grad_y, allow_unused=True))
            result = [next(grads) if f else None for f in flags]
        return (None, None, None, None, *result)


def invertible_apply(forward: Fn, inverse: Fn, x: torch.Tensor, cond: Sequence[torch.Tensor] = (),
                     params: Sequence[torch.Tensor] = ()) -> torch.Tensor:
    """``forward(x, *cond)``, recomputing the block from its output in the backward pass (see the module)."""
    if not torch.is_grad_enabled():
        return forward(x, *cond)
    return _Recompute.apply(forward, inverse, len(cond), len(params), x, *cond, *params)
