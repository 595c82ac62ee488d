"""Mode (c): forward-only training of a layer sequence — no backward through the network at all.

Each layer sees its input **detached** from everything before it. A layer is trained either by a *local loss*
(its output against a target it can compute alone, e.g. a fixed random projection of the labels — tpSGD / DRTP;
the gradient of that loss reaches only the layer's own weights) or by a *forward rule* that changes its weights
from its input and output alone (Hebbian learning), or it stays frozen. Only one layer's graph exists at a time.

::

    rules = [LocalLoss(target_loss(proj0)), LocalLoss(target_loss(proj1)), LocalLoss(cross_entropy_loss)]
    logs = forward_only_step(layers, x, y, rules, step=lambda k: optimizers[k].step())
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from zoo.engines.local_learning.modes import Backward, plain_backward
from zoo.engines.local_learning.net import call_layer
from zoo.errors import ConfigError

LayerLoss = Callable[[torch.Tensor, torch.Tensor, Any], torch.Tensor]
ForwardRule = Callable[[nn.Module, torch.Tensor, torch.Tensor], None]


@dataclass(frozen=True)
class LocalLoss:
    """Train the layer on ``loss(output, layer_input, target)``; its gradient stays inside the layer."""

    loss: LayerLoss


@dataclass(frozen=True)
class Forward:
    """Change the layer's weights with ``rule(layer, layer_input, output)`` under ``no_grad`` (Hebbian rules)."""

    rule: ForwardRule


Rule = LocalLoss | Forward | None  # None: the layer is frozen


class RandomTargetProjection(nn.Module):
    """A fixed random matrix ``P`` that turns one-hot labels into a target of a layer's output shape.

    ``P`` has ``prod(shape)`` rows and ``num_classes`` columns, entries from N(0, 1) scaled by ``scale`` (drawn
    from its own seeded generator, stored as a buffer so saved weights reproduce it); ``target(y) = (P onehot(y))``
    reshaped to ``shape``, optionally through ``squash`` (e.g. ``torch.sigmoid`` for sigmoid units).
    """

    def __init__(self, num_classes: int, shape: Sequence[int], seed: int, scale: float = 1.0,
                 squash: str = "none") -> None:
        super().__init__()
        if squash not in ("none", "sigmoid", "tanh"):
            raise ConfigError(f"unknown target squash {squash!r}; expected 'none', 'sigmoid' or 'tanh'")
        g = torch.Generator().manual_seed(seed)
        size = 1
        for s in shape:
            size *= int(s)
        self.register_buffer("matrix", torch.randn(size, num_classes, generator=g) * scale)
        self.shape = tuple(int(s) for s in shape)
        self.num_classes = num_classes
        self.squash = squash

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        """Targets ``(B, *shape)`` for integer labels ``(B,)``."""
        onehot = F.one_hot(labels, self.num_classes).to(self.matrix.dtype)
        target = (onehot @ self.matrix.T).reshape(labels.shape[0], *self.shape)
        if self.squash == "sigmoid":
            return torch.sigmoid(target)
        if self.squash == "tanh":
            return torch.tanh(target)
        return target


def forward_only_step(
    layers: Sequence[nn.Module],
    x: Any,
    target: Any,
    rules: Sequence[Rule],
    *,
    context: Sequence[Any] = (),
    backward: Backward = plain_backward,
    step: Callable[[int], None] = lambda k: None,
    autocast: Callable[[], Any] = contextlib.nullcontext,
) -> dict[str, float]:
    """Train ``layers`` one after the other on detached inputs; returns ``{"layer_loss_<k>": ...}``.

    ``backward(loss, name)`` back-propagates a layer's local loss (inside that layer only) and ``step(k)`` then
    updates layer ``k`` (its own optimizer). Raises :class:`ConfigError` when a layer's input still carries an
    autograd graph (a layer that leaked one), so no graph ever spans two layers.
    """
    if len(rules) != len(layers):
        raise ConfigError(f"{len(layers)} layers need {len(layers)} rules, got {len(rules)}")
    logs: dict[str, float] = {}
    h = x
    for k, (layer, rule) in enumerate(zip(layers, rules)):
        if isinstance(h, torch.Tensor) and h.grad_fn is not None:
            raise ConfigError(f"layer {k}'s input carries an autograd graph: forward-only training needs it detached")
        if isinstance(rule, LocalLoss):
            with torch.enable_grad(), autocast():
                out = call_layer(layer, h, context)
                loss = rule.loss(out, h, target)
            backward(loss, f"layer_loss_{k}")
            step(k)
            logs[f"layer_loss_{k}"] = float(loss.detach())
        else:
            with torch.no_grad(), autocast():
                out = call_layer(layer, h, context)
            if isinstance(rule, Forward):
                with torch.no_grad():
                    rule.rule(layer, h, out)
        h = out.detach()
    return logs


def soft_hebbian_delta(weight: torch.Tensor, inputs: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Soft competitive Hebbian update of a linear map (soft winner-take-all, Oja-style decay).

    For neurons ``u = W x`` with soft winners ``y = softmax(u / temperature)`` over neurons,
    ``delta w_k = mean_n y_nk (x_n - u_nk w_k)``: each neuron moves towards the inputs it wins, and the decay
    keeps its norm near 1. ``weight`` is ``(K, D)``, ``inputs`` ``(N, D)``; returns ``(K, D)``.
    """
    u = inputs @ weight.T  # (N, K)
    y = torch.softmax(u / temperature, dim=1)
    hebb = y.T @ inputs  # sum_n y_nk x_n
    decay = (y * u).sum(0)[:, None] * weight  # sum_n y_nk u_nk w_k
    return (hebb - decay) / inputs.shape[0]
