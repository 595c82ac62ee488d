"""Per-sample attack objectives on logits: cross-entropy (the FGSM family) and the Carlini-Wagner margin.

An attack *maximises* its objective (untargeted); a targeted attack maximises the negated objective of the target
class. Every function maps ``(logits [B, K], labels [B])`` to a ``[B]`` tensor.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from zoo.errors import ConfigError

AttackLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``J(x, y) = -log softmax(l(x))_y`` per sample (Eq. 1 of MAI-FGPLM)."""
    return F.cross_entropy(logits, labels, reduction="none")


def cw_margin(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Carlini-Wagner margin ``max_{j != y} z_j - z_y`` per sample (positive = misclassified; the CW-K attack)."""
    true = logits.gather(1, labels[:, None]).squeeze(1)
    others = logits.masked_fill(F.one_hot(labels, logits.shape[1]).bool(), float("-inf"))
    return others.amax(dim=1) - true


LOSSES: dict[str, AttackLoss] = {"ce": cross_entropy, "cw": cw_margin}


def get_loss(loss: str | AttackLoss) -> AttackLoss:
    """An attack objective by name (``ce``, ``cw``) or the callable itself."""
    if callable(loss):
        return loss
    try:
        return LOSSES[loss]
    except KeyError:
        raise ConfigError(f"unknown attack loss {loss!r}; expected one of {', '.join(LOSSES)} or a callable") from None
