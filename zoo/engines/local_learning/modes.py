"""Execution modes of a :class:`LocalNet` step, and the trainer ``backward_fn`` for each.

- ``local`` (a): for each module, forward, local loss through its auxiliary network, **backward at once**
  (freeing the module's graph), **detach** the output; one optimizer steps once after all modules (the
  InfoPro / AugLocal / MAN reference behaviour, where the memory saving comes from).
- ``per_module`` (b): the same, but module ``k``'s own optimizer steps right after its backward (update unlocking).
- ``end_to_end`` (e): the same network trained by back-propagation from the head alone (auxiliary networks
  unused), the fair BP baseline.

The forward-only (c) and forward-forward (d) modes train layer sequences without auxiliary networks: see
:mod:`zoo.engines.local_learning.forward_only` and :mod:`zoo.engines.local_learning.forward_forward`.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from zoo.engines.local_learning.net import LocalNet, call_layer
from zoo.engines.local_learning.optimizers import ModuleOptimizers
from zoo.errors import ConfigError

MODES: tuple[str, ...] = ("local", "per_module", "end_to_end")

Backward = Callable[[torch.Tensor, str], Any]
TaskLoss = Callable[[torch.Tensor, Any], torch.Tensor]


def plain_backward(loss: torch.Tensor, name: str = "loss") -> None:
    """``loss.backward()`` when the loss depends on trainable parameters (a zero-weight loss does not)."""
    if loss.requires_grad:
        loss.backward()


def _accuracy(logits: torch.Tensor, target: Any) -> float | None:
    if isinstance(target, torch.Tensor) and target.dtype == torch.long and logits.dim() == 2 \
            and logits.shape[0] == target.shape[0]:
        return float((logits.detach().argmax(-1) == target).float().mean())
    return None


def local_forward_backward(
    net: LocalNet,
    x: Any,
    target: Any,
    task_loss: TaskLoss = nn.functional.cross_entropy,
    after_module: Callable[[int], None] | None = None,
    *,
    context: Sequence[Any] = (),
    backward: Backward = plain_backward,
    autocast: Callable[[], Any] = contextlib.nullcontext,
    detach: bool = True,
) -> dict[str, float]:
    """Run every local module with an immediate backward, detaching between modules (modes a and b).

    Gradients accumulate into ``.grad``; the caller zeroes and steps the optimizer(s). ``after_module(k)`` is
    called after module ``k``'s backward (per-module optimizers step there). ``backward(loss, name)`` does the
    backward pass (the trainer's :meth:`StepTools.backward` checks for NaN and scales for mixed precision);
    ``autocast()`` wraps each module's forward and loss. ``context`` is handed to every layer after the
    features (multi-input layers: graph edges). With ``detach=False`` no auxiliary loss is computed and the
    head's loss flows back through the whole network: end-to-end BP on the same model (mode e).

    Returns:
        ``{"loss": task loss, "local_loss_<k>": ...}`` plus whatever the auxiliary networks log.
    """
    logs: dict[str, float] = {}
    h = x
    last = net.num_modules - 1
    for k in range(net.num_modules):
        with autocast():
            for layer in net.module_layers(k):
                h = call_layer(layer, h, context)
            if k < last and detach:
                loss, aux_logs = net.aux[k](h, x, target)
                if net.loss_weights[k] != 1.0:
                    loss = net.loss_weights[k] * loss
        if k < last:
            if detach:
                backward(loss, f"local_loss_{k}")
                logs[f"local_loss_{k}"] = float(loss.detach())
                logs.update({f"{name}_{k}": value for name, value in aux_logs.items()})
                h = h.detach()  # gradient isolation: nothing flows back across the boundary
                hook = getattr(net.aux[k], "after_backward", None)
                if callable(hook):
                    hook()
        else:
            with autocast():
                logits = net.head(h)
                loss = task_loss(logits, target)
            backward(loss, "loss")
            logs["loss"] = float(loss.detach())
            accuracy = _accuracy(logits, target)
            if accuracy is not None:
                logs["train_accuracy"] = accuracy
        if after_module is not None:
            after_module(k)
    return logs


def local_step(net: LocalNet, batch: tuple[Any, Any], optimizer: torch.optim.Optimizer,
               after_step: Callable[[], None] | None = None) -> dict[str, float]:
    """One mode-(a) step with a single optimizer over all parameters, outside the trainer."""
    x, target = batch
    optimizer.zero_grad(set_to_none=True)
    logs = local_forward_backward(net, x, target)
    optimizer.step()
    if after_step is not None:
        after_step()
    return logs


def per_module_optimizers(net: LocalNet, make: Callable[[list[nn.Parameter]], torch.optim.Optimizer]
                          ) -> ModuleOptimizers:
    """One optimizer per local module (its layers plus its auxiliary network; the head goes with the last)."""
    return ModuleOptimizers([make(net.module_parameters(k)) for k in range(net.num_modules)])


def local_step_per_module(net: LocalNet, batch: tuple[Any, Any], optimizers: Sequence[torch.optim.Optimizer]
                          ) -> dict[str, float]:
    """One mode-(b) step where module ``k``'s optimizer steps right after its own backward (update unlocking)."""
    x, target = batch
    for opt in optimizers:
        opt.zero_grad(set_to_none=True)
    return local_forward_backward(net, x, target, after_module=lambda k: optimizers[k].step())


def local_backward_fn(mode: str = "local", *, task_loss: TaskLoss = nn.functional.cross_entropy,
                      split: Callable[[Any], tuple[Any, Any, Sequence[Any]]] | None = None,
                      after_step: Callable[[LocalNet], None] | None = None) -> Callable[..., dict[str, float]]:
    """A trainer ``backward_fn`` running ``mode`` (``local``, ``per_module`` or ``end_to_end``).

    Every loss goes through the trainer's :class:`~zoo.engines.steps.StepTools` (NaN check, mixed precision,
    gradient clipping). ``per_module`` needs the run's optimizer to be a :class:`ModuleOptimizers` (from
    :func:`per_module_optimizers`). ``split(batch) -> (x, target, context)`` unpacks a batch (default
    ``(x, target)``, no context); ``after_step(net)`` runs after the optimizer step(s).
    """
    if mode not in MODES:
        raise ConfigError(f"unknown local-learning mode {mode!r}; expected one of {MODES}")

    def backward_fn(model: LocalNet, batch: Any, tools: Any) -> dict[str, float]:
        x, target, context = split(batch) if split is not None else (batch[0], batch[1], ())
        after_module = None
        if mode == "per_module":
            optimizers = tools.optimizer
            if not isinstance(optimizers, ModuleOptimizers) or len(optimizers) != model.num_modules:
                raise ConfigError(f"mode 'per_module' needs a ModuleOptimizers with {model.num_modules} "
                                  f"optimizers as the run's optimizer, got {type(optimizers).__name__}")
            after_module = lambda k: tools.step(optimizers[k])  # noqa: E731
        logs = local_forward_backward(model, x, target, task_loss, after_module, context=context,
                                      backward=tools.backward, autocast=tools.autocast,
                                      detach=mode != "end_to_end")
        if mode != "per_module":
            tools.step()
        if after_step is not None:
            after_step(model)
        return logs

    return backward_fn
