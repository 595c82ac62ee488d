"""SARG's training loss (Eq. 14): group-activity cross-entropy plus lambda times individual-action cross-entropy."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def sarg_loss(activity_logits: torch.Tensor, action_logits: torch.Tensor, activity: torch.Tensor,
              actions: torch.Tensor, action_weight: float) -> tuple[torch.Tensor, dict[str, float]]:
    """``L = L1(y_G, y_hat_G) + lambda L2(y_I, y_hat_I)`` (both cross-entropies, actions over every actor)."""
    l1 = F.cross_entropy(activity_logits, activity)
    l2 = F.cross_entropy(action_logits.flatten(0, 1), actions.flatten())
    logs = {"l_activity": float(l1.detach()), "l_action": float(l2.detach())}  # pragma: no mutate (logging only)
    return l1 + action_weight * l2, logs
