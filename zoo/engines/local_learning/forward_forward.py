"""Mode (d): forward-forward training — a positive and a negative pass through each layer, a goodness per layer.

Each layer is trained on its own: goodness ``g(h) = sum(h^2) - theta`` should be high for positive data and low
for negative data, ``loss = softplus(-g(h_pos)) + softplus(g(h_neg))`` (binary cross-entropy with logits ``g``).
Inputs are detached and length-normalised before each layer, so a layer cannot read the previous layer's goodness
and no graph spans two layers (Hinton 2022; ForwardGNN's FF variant on graphs).
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from zoo.engines.local_learning.modes import Backward, plain_backward
from zoo.engines.local_learning.net import call_layer


def goodness(h: torch.Tensor, theta: float) -> torch.Tensor:
    """``sum over features of h^2 - theta`` per row (the logit of "this input is positive")."""
    return h.pow(2).sum(-1) - theta


def forward_forward_loss(h_pos: torch.Tensor, h_neg: torch.Tensor, theta: float) -> torch.Tensor:
    """``mean softplus(-g(h_pos)) + mean softplus(g(h_neg))``."""
    return F.softplus(-goodness(h_pos, theta)).mean() + F.softplus(goodness(h_neg, theta)).mean()


def normalise(h: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Each row scaled to unit length (the length carried the previous layer's goodness)."""
    return h / (h.norm(dim=-1, keepdim=True) + eps)


def forward_forward_step(
    layers: Sequence[nn.Module],
    x_pos: torch.Tensor,
    x_neg: torch.Tensor,
    *,
    theta: float = 2.0,
    context: Sequence[Any] = (),
    context_neg: Sequence[Any] | None = None,
    rows: torch.Tensor | None = None,
    backward: Backward = plain_backward,
    step: Callable[[int], None] = lambda k: None,
    autocast: Callable[[], Any] = contextlib.nullcontext,
) -> dict[str, float]:
    """Train each layer on its positive/negative goodness; returns ``{"ff_loss_<k>": ...}``.

    ``rows`` restricts the loss to some rows (the training nodes of a graph); ``context_neg`` is the negative
    pass's context when it differs (default: the positive one). ``step(k)`` updates layer ``k`` after its backward.
    """
    logs: dict[str, float] = {}
    hp, hn = x_pos, x_neg
    neg_context = context if context_neg is None else context_neg
    for k, layer in enumerate(layers):
        hp_in, hn_in = (normalise(hp.detach()), normalise(hn.detach())) if k > 0 else (hp.detach(), hn.detach())
        with autocast():
            hp = call_layer(layer, hp_in, context)
            hn = call_layer(layer, hn_in, neg_context)
            sel_p, sel_n = (hp[rows], hn[rows]) if rows is not None else (hp, hn)
            loss = forward_forward_loss(sel_p, sel_n, theta)
        backward(loss, f"ff_loss_{k}")
        step(k)
        logs[f"ff_loss_{k}"] = float(loss.detach())
        hp, hn = hp.detach(), hn.detach()
    return logs


@torch.no_grad()
def layer_goodness(layers: Sequence[nn.Module], x: torch.Tensor, theta: float,
                   context: Sequence[Any] = ()) -> list[torch.Tensor]:
    """Goodness of every layer for input ``x`` (inference: sum it over layers, compare candidates)."""
    out = []
    h = x
    for k, layer in enumerate(layers):
        h = call_layer(layer, normalise(h) if k > 0 else h, context)
        out.append(goodness(h, theta))
    return out
