"""Metric-learning losses: triplets (explicit or batch-hard) and uncertainty-weighted multi-task sums."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F


def triplet_loss(anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor, margin: float,
                 reduction: str = "mean") -> torch.Tensor:
    """``[margin + ||a - p||^2 - ||a - n||^2]_+`` over matching rows (squared Euclidean distances)."""
    d_pos = (anchor - positive).pow(2).sum(-1)
    d_neg = (anchor - negative).pow(2).sum(-1)
    loss = F.relu(margin + d_pos - d_neg)
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    return loss.mean()


def batch_hard_triplet(features: torch.Tensor, labels: torch.Tensor, margin: float = 0.3,
                       squared: bool = False, reduction: str = "mean") -> torch.Tensor:
    """Hermans et al.'s batch-hard triplet loss: for each anchor, its farthest positive and nearest negative in
    the batch (Euclidean distances; ``squared`` for squared ones). Anchors without a positive or a negative in
    the batch are skipped (``reduction="none"``: one loss per anchor, 0 for those)."""
    dist = torch.cdist(features, features).pow(2) if squared else torch.cdist(features, features)
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool, device=features.device)
    pos_mask, neg_mask = same & ~eye, ~same
    valid = pos_mask.any(1) & neg_mask.any(1)
    if not valid.any():
        return features.sum() * 0.0 if reduction == "mean" else features.sum(-1) * 0.0
    hardest_pos = dist.masked_fill(~pos_mask, float("-inf")).amax(1)
    hardest_neg = dist.masked_fill(~neg_mask, float("inf")).amin(1)
    per_anchor = torch.where(valid, F.relu(margin + hardest_pos - hardest_neg), torch.zeros_like(hardest_pos))
    return per_anchor if reduction == "none" else per_anchor[valid].mean()


class UncertaintyWeighting(nn.Module):
    """Learned task weights (Kendall et al., as used by FairMOT and DCAL):
    ``0.5 * sum_i (exp(-w_i) L_i + w_i)`` with one learnable log-variance ``w_i`` per task (initialised to 0)."""

    def __init__(self, tasks: int) -> None:
        super().__init__()
        self.log_vars = nn.Parameter(torch.zeros(tasks))

    def forward(self, losses: Sequence[torch.Tensor]) -> torch.Tensor:
        """The weighted sum of the task losses."""
        if len(losses) != len(self.log_vars):
            raise ValueError(f"expected {len(self.log_vars)} task losses, got {len(losses)}")
        stacked = torch.stack(list(losses))
        return 0.5 * (torch.exp(-self.log_vars) * stacked + self.log_vars).sum()
