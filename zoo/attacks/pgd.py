"""Projected gradient descent (Madry et al.): K signed-gradient steps projected onto the eps-ball, with random
starts and restarts (``PGD-K-N`` = K steps, N restarts, the strongest restart kept per sample)."""
from __future__ import annotations

import torch

from zoo.attacks.gradient import Model, input_gradient
from zoo.attacks.losses import AttackLoss, get_loss
from zoo.attacks.norms import Budget, ascent_direction, clip_eps, per_sample, project, random_start
from zoo.errors import ConfigError


def pgd(model: Model, x: torch.Tensor, labels: torch.Tensor, eps: Budget, alpha: Budget, steps: int, *,
        norm: str = "linf", rand_init: bool = True, restarts: int = 1, loss: str | AttackLoss = "ce",
        targeted: bool = False, bounds: tuple[float, float] | None = (0.0, 1.0),
        generator: torch.Generator | None = None) -> torch.Tensor:
    """``delta <- Pi_eps(delta + alpha * dir(grad_delta J(x + delta, y)))`` for ``steps`` steps (Eq. 3 of FGSMPR).

    ``rand_init`` starts each restart from a uniform draw in the ball (else from ``x``). Every iterate is also
    clamped to the input ``bounds``. With ``restarts > 1`` the kept example per sample is one that fools the
    model if any restart does, and among those (or among the failures) the one with the highest objective.
    """
    if steps < 0 or restarts < 1:
        raise ConfigError(f"pgd needs steps >= 0 and restarts >= 1, got steps={steps}, restarts={restarts}")
    objective = get_loss(loss)
    best = x.detach().clone()
    best_fooled = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
    best_value = torch.full((x.shape[0],), float("-inf"), device=x.device)
    step = per_sample(alpha, x)
    for _ in range(restarts):
        delta = random_start(x, eps, norm, generator) if rand_init else torch.zeros_like(x)
        x_adv = clip_eps(x + delta, x, eps, norm, bounds)
        for _ in range(steps):
            grad, _ = input_gradient(model, x_adv, labels, objective, targeted)
            delta = project(x_adv - x + step * ascent_direction(grad, norm), eps, norm)
            x_adv = clip_eps(x + delta, x, eps, norm, bounds)
        if restarts == 1:
            return x_adv.detach()
        with torch.no_grad():
            logits = model(x_adv)
            value = objective(logits, labels)
            value = -value if targeted else value
            pred = logits.argmax(1)
            fooled = pred == labels if targeted else pred != labels
        better = (fooled & ~best_fooled) | ((fooled == best_fooled) & (value > best_value))
        best[better] = x_adv[better].detach()
        best_fooled = best_fooled | fooled
        best_value = torch.where(better, value, best_value)
    return best
