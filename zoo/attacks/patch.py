"""Localised (patch) attacks: ``x' = x * (1 - m) + p * m`` with the patch ``p`` optimised by signed gradient steps.

Model-agnostic: the attack minimises any per-image ``objective(x') -> [B]`` (e.g. the vanishing loss
``max(objectness(x'))`` of SAA / objectness regularisation, or a classifier's true-class logit). Only the pixels
under the boolean ``mask`` change, and they stay inside ``bounds``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from zoo.attacks.norms import clip_to_domain
from zoo.errors import ConfigError

StepSize = float | Sequence[float] | Callable[[int], float]


def apply_patch(x: torch.Tensor, patch: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``x (.) (1 - m) + p (.) m`` (Eq. 2 of objectness regularisation); ``mask`` is bool or {0, 1}."""
    m = mask.to(dtype=x.dtype)
    return x * (1 - m) + patch * m


def decaying_steps(initial: float = 8 / 255, rate: float = 0.5,
                   milestones: Sequence[int] = (30, 90, 190)) -> Callable[[int], float]:
    """A step length that starts at ``initial`` and is multiplied by ``rate`` at each milestone iteration
    (the 255-iteration attacks of objectness regularisation: 8/255 halved at 30, 90 and 190)."""
    points = sorted(milestones)

    def step(t: int) -> float:
        return initial * rate ** sum(t >= p for p in points)

    return step


def _step_at(step_size: StepSize, t: int) -> float:
    if callable(step_size):
        return float(step_size(t))
    if isinstance(step_size, (int, float)):
        return float(step_size)
    return float(step_size[min(t, len(step_size) - 1)])


@dataclass
class PatchResult:
    """The patched images, the patch and the objective after every step (mean over the batch)."""

    x_adv: torch.Tensor
    patch: torch.Tensor
    history: list[float] = field(default_factory=list)


def patch_attack(objective: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, mask: torch.Tensor,
                 steps: int, step_size: StepSize = 1 / 255, *, init: str | torch.Tensor = "random",
                 bounds: tuple[float, float] | None = (0.0, 1.0), minimize: bool = True,
                 generator: torch.Generator | None = None) -> PatchResult:
    """Optimise the patch for ``steps`` signed-gradient steps of length ``step_size`` (a float, a per-step list or
    a function of the step index) so that ``objective(apply_patch(x, p, mask))`` decreases (``minimize``) or
    increases. ``init``: ``"random"`` (uniform in ``bounds``), ``"zeros"``, ``"image"`` (start from ``x``) or a
    tensor. Returns the patch after the last step (the usual protocol: a fixed iteration budget)."""
    if steps < 0:
        raise ConfigError(f"patch_attack needs steps >= 0, got {steps}")
    if mask.shape[-2:] != x.shape[-2:]:
        raise ConfigError(f"mask {tuple(mask.shape)} does not cover the image {tuple(x.shape)}")
    low, high = bounds if bounds is not None else (0.0, 1.0)
    if isinstance(init, torch.Tensor):
        patch = init.to(x).expand_as(x).clone()
    elif init == "random":
        patch = low + (high - low) * torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    elif init == "zeros":
        patch = torch.zeros_like(x)
    elif init == "image":
        patch = x.clone()
    else:
        raise ConfigError(f"unknown patch init {init!r}; expected random, zeros, image or a tensor")
    sign = -1.0 if minimize else 1.0
    history: list[float] = []
    x = x.detach()
    for t in range(steps):
        with torch.enable_grad():
            p = patch.detach().requires_grad_(True)
            values = objective(apply_patch(x, p, mask))
            (grad,) = torch.autograd.grad(values.sum(), p)
        history.append(float(values.detach().mean()))
        patch = clip_to_domain(patch + sign * _step_at(step_size, t) * grad.sign(), bounds)
    return PatchResult(apply_patch(x, patch, mask).detach(), patch.detach(), history)
