"""FGSM (Goodfellow et al.): one signed-gradient step; with a random start it is FAST-FGSM (Wong et al.)."""
from __future__ import annotations

import torch

from zoo.attacks.gradient import Model, input_gradient
from zoo.attacks.losses import AttackLoss, get_loss
from zoo.attacks.norms import Budget, ascent_direction, clip_eps, per_sample, project, random_start


def fgsm(model: Model, x: torch.Tensor, labels: torch.Tensor, eps: Budget, *, norm: str = "linf",
         alpha: Budget | None = None, rand_init: bool = False, loss: str | AttackLoss = "ce",
         targeted: bool = False, bounds: tuple[float, float] | None = (0.0, 1.0),
         generator: torch.Generator | None = None) -> torch.Tensor:
    """``x' = Clip^eps_x{x + delta0 + alpha * dir(grad_x J(x + delta0, y))}`` in one step.

    Plain FGSM (Eq. 2 of FGSMPR / MAI-FGPLM): ``delta0 = 0`` and ``alpha = eps`` (the default), so
    ``x' = x + eps * sign(grad)`` for L-inf (then clamped to ``bounds``). ``rand_init=True`` draws ``delta0``
    uniformly from the eps-ball (FAST-FGSM; Wong et al. use ``alpha = 1.25 * eps``) and projects the result back
    onto the ball. ``dir`` is ``sign`` for L-inf and the unit L2 direction for L2.
    """
    step = eps if alpha is None else alpha
    delta0 = random_start(x, eps, norm, generator) if rand_init else torch.zeros_like(x)
    start = clip_eps(x + delta0, x, eps, norm, bounds)
    grad, _ = input_gradient(model, start, labels, get_loss(loss), targeted)
    delta = project(start - x + per_sample(step, grad) * ascent_direction(grad, norm), eps, norm)
    return clip_eps(x + delta, x, eps, norm, bounds).detach()

