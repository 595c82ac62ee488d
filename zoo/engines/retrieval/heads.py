"""Cosine-margin classification heads for metric learning: ArcFace, CosFace and MadaCos.

Each head holds class weights ``W`` (C, D) and computes ``cos = normalize(x) @ normalize(W).T``. During training
(``targets`` given) the target logit gets a margin; without targets the heads return ``s * cos``.

- ArcFace (Deng et al.): target ``s * cos(theta + m)``; beyond ``theta > pi - m`` the usual linear fallback
  ``cos - m sin(pi - m)`` keeps it monotonic. ``curricular=True`` adds the DOLG public code's hard-example
  modulation (non-target logits above the target's become ``cos * (t + cos)``, ``t`` an EMA of the mean
  target cosine).
- CosFace (Wang et al.): target ``s * (cos - m)``.
- MadaCos (CFCD, Zhu et al. 2023): scale and margin from the batch, with no free hyper-parameter but the target
  probability ``alpha``: ``s = max(log(K (1 - alpha) / alpha) / (1 - median_cos_target), s_min)`` with
  ``K = 9999999`` and ``s_min = 32``, and ``m = median_cos_target - log(B_med alpha / (1 - alpha)) / s`` (clipped
  at 0), where ``B_i = sum_{j != y_i} exp(s cos_ij)`` and ``B_med`` is ``B`` of the median sample. Scale and
  margin are constants for the gradient. :func:`madacos_scale_margin` computes them (log-space, so large
  scales do not overflow).
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

MADACOS_K = 9999999.0
MADACOS_MIN_SCALE = 32.0


class CosineHead(nn.Module):
    """Normalised class weights; ``cosine(x)`` is the (B, C) cosine matrix."""

    def __init__(self, dim: int, num_classes: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_classes, dim))
        nn.init.uniform_(self.weight, -1.0 / math.sqrt(dim), 1.0 / math.sqrt(dim))

    def cosine(self, x: torch.Tensor) -> torch.Tensor:
        """Cosine between each feature and each class weight, clamped to [-1, 1]."""
        return F.linear(F.normalize(x, dim=-1), F.normalize(self.weight, dim=-1)).clamp(-1.0, 1.0)


def _onehot(targets: torch.Tensor, num_classes: int, like: torch.Tensor) -> torch.Tensor:
    return F.one_hot(targets.long(), num_classes).to(like.dtype)


class ArcFace(CosineHead):
    """Additive angular margin (module docstring); DOLG uses ``s = 30``, ``m = 0.15``."""

    def __init__(self, dim: int, num_classes: int, scale: float = 30.0, margin: float = 0.15,
                 curricular: bool = False) -> None:
        super().__init__(dim, num_classes)
        self.scale, self.margin, self.curricular = scale, margin, curricular
        self.register_buffer("t", torch.zeros(()))

    def forward(self, x: torch.Tensor, targets: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``s * cos`` with the margin on the target class when ``targets`` are given."""
        cos = self.cosine(x)
        if targets is None:
            return self.scale * cos
        target = cos.gather(1, targets.long()[:, None])
        sin = (1.0 - target.pow(2)).clamp(min=0.0).sqrt()
        with_margin = target * math.cos(self.margin) - sin * math.sin(self.margin)
        fallback = target - math.sin(math.pi - self.margin) * self.margin
        target_logit = torch.where(target > math.cos(math.pi - self.margin), with_margin, fallback)
        if self.curricular:
            with torch.no_grad():
                self.t.mul_(0.99).add_(0.01 * target.mean())
            hard = cos > target_logit
            cos = torch.where(hard, cos * (self.t + cos), cos)
        return self.scale * cos.scatter(1, targets.long()[:, None], target_logit)


class CosFace(CosineHead):
    """Additive cosine margin: target logit ``s (cos - m)``."""

    def __init__(self, dim: int, num_classes: int, scale: float = 30.0, margin: float = 0.35) -> None:
        super().__init__(dim, num_classes)
        self.scale, self.margin = scale, margin

    def forward(self, x: torch.Tensor, targets: torch.Tensor | None = None) -> torch.Tensor:
        """Logits with the cosine margin on the target class when ``targets`` are given."""
        cos = self.cosine(x)
        if targets is None:
            return self.scale * cos
        return self.scale * (cos - self.margin * _onehot(targets, cos.shape[1], cos))


@torch.no_grad()
def madacos_scale_margin(cos: torch.Tensor, targets: torch.Tensor, alpha: float = 0.02,
                         min_scale: float = MADACOS_MIN_SCALE) -> tuple[torch.Tensor, torch.Tensor]:
    """MadaCos's batch scale ``s`` and margin ``m`` (module docstring) as 0-d tensors."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"MadaCos alpha must be in (0, 1), got {alpha}")
    target = cos.gather(1, targets.long()[:, None]).squeeze(1)
    median, index = torch.median(target, dim=0)  # the lower median for an even batch, as torch.median
    scale = torch.clamp(math.log(MADACOS_K * (1.0 - alpha) / alpha) / (1.0 - median), min=min_scale)
    others = cos.masked_fill(_onehot(targets, cos.shape[1], cos).bool(), float("-inf"))
    log_b = torch.logsumexp(scale * others[index], dim=0)  # log B of the median sample
    margin = torch.clamp(median - (log_b + math.log(alpha / (1.0 - alpha))) / scale, min=0.0)
    return scale, margin


class MadaCos(CosineHead):
    """Median-adaptive cosine head (module docstring); CFCD uses ``alpha = 0.02``.

    The last training batch's scale and margin are kept in ``last_scale`` / ``last_margin``; without targets
    (inference) the logits are ``last_scale * cos`` with no margin.
    """

    def __init__(self, dim: int, num_classes: int, alpha: float = 0.02, min_scale: float = MADACOS_MIN_SCALE) -> None:
        super().__init__(dim, num_classes)
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"MadaCos alpha must be in (0, 1), got {alpha}")
        self.alpha, self.min_scale = alpha, min_scale
        self.register_buffer("last_scale", torch.tensor(min_scale))
        self.register_buffer("last_margin", torch.zeros(()))

    def forward(self, x: torch.Tensor, targets: torch.Tensor | None = None) -> torch.Tensor:
        """``s (cos - m onehot)`` in training with targets; ``last_scale * cos`` otherwise."""
        cos = self.cosine(x)
        if targets is None:
            return self.last_scale * cos
        scale, margin = madacos_scale_margin(cos.detach(), targets, self.alpha, self.min_scale)
        if not self.training:
            margin = torch.zeros_like(margin)
        self.last_scale.copy_(scale)
        self.last_margin.copy_(margin)
        return scale * (cos - margin * _onehot(targets, cos.shape[1], cos))


HEADS: dict[str, type[CosineHead]] = {"arcface": ArcFace, "cosface": CosFace, "madacos": MadaCos}
