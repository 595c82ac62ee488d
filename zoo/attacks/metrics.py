"""Attack metrics: success rate, average perturbation size (APS) and robust accuracy under an attack."""
from __future__ import annotations

from collections.abc import Callable

import torch

from zoo.attacks.gradient import Model


@torch.no_grad()
def attack_success_rate(model: Model, x_adv: torch.Tensor, labels: torch.Tensor, targeted: bool = False) -> float:
    """Fraction of adversarial examples that fool ``model`` (ASR): predicted != label (untargeted) or
    == target (targeted)."""
    pred = model(x_adv).argmax(1)
    hits = pred == labels if targeted else pred != labels
    return float(hits.float().mean())


def average_perturbation_size(x_adv: torch.Tensor, x: torch.Tensor, scale: float = 255.0) -> float:
    """APS of MAI-FGPLM: ``sum_ij |x'_ij - x_ij| / (N * M)`` with pixels on a ``[0, scale]`` range (images in
    ``[0, 1]`` are multiplied by ``scale = 255``)."""
    return float((x_adv - x).abs().mean() * scale)


def robust_accuracy(model: Model, x: torch.Tensor, labels: torch.Tensor,
                    attack: Callable[[Model, torch.Tensor, torch.Tensor], torch.Tensor],
                    batch_size: int = 256) -> float:
    """Accuracy of ``model`` on ``attack(model, x, labels)`` (``attack`` gets each batch), as a fraction."""
    correct = 0
    for start in range(0, x.shape[0], batch_size):
        xb, yb = x[start:start + batch_size], labels[start:start + batch_size]
        adv = attack(model, xb, yb)
        with torch.no_grad():
            correct += int((model(adv).argmax(1) == yb).sum())
    return correct / max(1, x.shape[0])
