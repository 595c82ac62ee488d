"""CFCD's fine stage: matching prominent local descriptors across anchor and positive, and the super-feature
triplet loss that pushes them away from the nearest local descriptors of hard negatives.

:func:`match_local` pairs anchor and positive descriptors that are mutual nearest neighbours, pass Lowe's ratio
test (nearest / second nearest anchor descriptor distance <= 0.9, seen from the positive) and whose positive
descriptor is among the top ``keep`` fraction by attention. For every matched anchor descriptor, each negative
image contributes its nearest local descriptor; the loss is ``weight * sum [margin + |a - p|^2 - |a - n|^2]_+``
over L2-normalised descriptors (margin 0.1, weight 0.05 in the paper's code).
"""
from __future__ import annotations

import torch
from torch.nn import functional as F

from zoo.engines.retrieval.losses import triplet_loss


def match_local(anchor: torch.Tensor, positive: torch.Tensor, attention: torch.Tensor, ratio: float = 0.9,
                keep: float = 0.5) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices ``(anchor_idx, positive_idx)`` of matched local descriptors (module docstring).

    ``anchor`` (Na, D), ``positive`` (Np, D): normalised descriptors; ``attention`` (Np,): the positive's.
    """
    dist = torch.cdist(anchor, positive)
    best_for_anchor = dist.argmin(dim=1)  # (Na,)
    best_for_positive = dist.argmin(dim=0)  # (Np,)
    cols = torch.arange(positive.shape[0], device=positive.device)
    mutual = best_for_anchor[best_for_positive] == cols
    nearest = dist[best_for_positive, cols]
    second = dist.clone()
    second[best_for_positive, cols] = float("inf")
    ratio_ok = nearest <= ratio * second.min(dim=0).values if anchor.shape[0] > 1 else torch.ones_like(mutual)
    top = torch.zeros_like(mutual)
    top[attention.topk(max(1, int(len(attention) * keep))).indices] = True
    valid = mutual & ratio_ok & top
    pos_idx = torch.nonzero(valid).flatten()
    return best_for_positive[pos_idx], pos_idx


def superfeature_triplet(local: torch.Tensor, attention: torch.Tensor, margin: float = 0.1, weight: float = 0.05,
                         ratio: float = 0.9, keep: float = 0.5) -> torch.Tensor:
    """The fine-stage loss of one tuple: ``local`` (S, N, D) descriptors of anchor, positive, negatives;
    ``attention`` (S, N). Zero (with a gradient path) when nothing matches."""
    feats = F.normalize(local, dim=-1)
    a_idx, p_idx = match_local(feats[0], feats[1], attention[1], ratio, keep)
    if a_idx.numel() == 0:
        return feats.sum() * 0.0
    anchors, positives = feats[0, a_idx], feats[1, p_idx]
    total = feats.new_zeros(())
    for negative in feats[2:]:
        nearest = torch.cdist(anchors.detach(), negative.detach()).argmin(dim=1)
        total = total + triplet_loss(anchors, positives, negative[nearest], margin, reduction="sum")
    return weight * total
