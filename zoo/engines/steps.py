"""One optimisation step, with the trainer's numerics: the NaN/Inf check, mixed precision, gradient clipping.

:class:`StepTools` is what a step gets from the trainer. The default step (a ``loss_fn``) uses it, and so does a
custom ``backward_fn`` — a method whose step is more than one backward (local learning calls ``backward`` once
per module; per-module optimizers call ``step`` once per module) keeps every switch of the recipe::

    def backward_fn(model, batch, tools):
        for module, loss_of in ...:
            with tools.autocast():
                loss = loss_of(module)
            tools.backward(loss, name=f"local_loss_{k}")   # finite check, grad-scaled backward
            tools.step(optimizers[k])                       # optional: unscale, clip, step this optimizer
        return {"loss": ...}

When ``backward_fn`` calls no ``step``, the trainer steps its optimizer once afterwards.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from typing import Any

import torch

from zoo.errors import TrainingError


def amp_setup(enabled: bool, device: torch.device) -> tuple[Callable[[], Any], Any]:
    """An autocast context factory and a grad scaler (both inert unless ``enabled`` on CUDA)."""
    if not (enabled and device.type == "cuda"):
        return contextlib.nullcontext, torch.amp.GradScaler("cuda", enabled=False)
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)
    return (lambda: torch.autocast(device_type="cuda", dtype=dtype)), scaler


def check_finite(value: float, name: str, step: int) -> None:
    """Raise :class:`TrainingError` when a loss is NaN or infinite, with what to try."""
    if not math.isfinite(value):
        raise TrainingError(
            f"{name} became {value} at step {step}; lower the learning rate, "
            "enable grad_clip, or check the data for NaN/Inf"
        )


class StepTools:
    """The trainer's numerics for one step: autocast, checked and scaled backward, clipped (scaled) steps.

    Args:
        optimizer: the run's optimizer (stepped by :meth:`step` when no other is given).
        scaler: the grad scaler (inert on CPU / without fp16).
        autocast: factory of the autocast context (a null context without ``amp``).
        grad_clip: the global-norm bound per stepped optimizer, or None.
        step: index of the step (for messages).
        before_step: called once before the first optimizer step (DDP gradient averaging).
    """

    def __init__(self, optimizer: torch.optim.Optimizer, scaler: Any, autocast: Callable[[], Any],
                 grad_clip: float | None, step: int, before_step: Callable[[], None] | None = None) -> None:
        self.optimizer = optimizer
        self.scaler = scaler
        self._autocast = autocast
        self.grad_clip = grad_clip
        self.step_index = step
        self._before_step = before_step
        self.steps_taken = 0
        self._norms_sq = 0.0

    def autocast(self) -> Any:
        """The autocast context of the run (use it around forward passes and loss computations)."""
        return self._autocast()

    def backward(self, loss: torch.Tensor, name: str = "loss") -> float:
        """Check ``loss`` is finite, then back-propagate it (grad-scaled). Returns its value."""
        value = float(loss.detach().float().item())
        check_finite(value, name, self.step_index)
        if loss.requires_grad:
            self.scaler.scale(loss).backward()
        return value

    def step(self, optimizer: torch.optim.Optimizer | None = None) -> None:
        """Unscale, clip (global norm over the optimizer's parameters) and step ``optimizer`` (default: the run's)."""
        opt = optimizer if optimizer is not None else self.optimizer
        if self.steps_taken == 0 and self._before_step is not None:
            self._before_step()
        if self.grad_clip is not None:
            self.scaler.unscale_(opt)
            params = [p for g in opt.param_groups for p in g["params"]]
            norm = float(torch.nn.utils.clip_grad_norm_(params, self.grad_clip))
            self._norms_sq += norm * norm
        self.scaler.step(opt)
        self.steps_taken += 1

    def metrics(self) -> dict[str, float]:
        """``grad_norm`` (the norm before clipping, over every stepped optimizer) when clipping is on."""
        return {"grad_norm": math.sqrt(self._norms_sq)} if self.grad_clip is not None else {}
