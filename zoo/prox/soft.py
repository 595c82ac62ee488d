"""Soft thresholding: the proximal operator of the L1 penalty ``theta * |a|`` (ISTA/LISTA's shrinkage ``h_theta``)."""
from __future__ import annotations

import torch

Param = float | torch.Tensor


def soft_threshold(x: torch.Tensor, theta: Param) -> torch.Tensor:
    """``h_theta(x) = sign(x) * max(|x| - theta, 0)`` elementwise; differentiable in ``x`` and ``theta`` (LISTA
    learns ``theta``). ``theta`` (>= 0) broadcasts against ``x``."""
    return torch.sign(x) * torch.relu(x.abs() - theta)


def l1_penalty(a: torch.Tensor, theta: Param) -> torch.Tensor:
    """``theta * |a|`` elementwise."""
    return theta * a.abs()


def soft_objective(a: torch.Tensor, x: torch.Tensor, theta: Param) -> torch.Tensor:
    """The prox objective ``1/2 (a - x)^2 + theta |a|`` that :func:`soft_threshold` minimises over ``a``."""
    return 0.5 * (a - x) ** 2 + l1_penalty(a, theta)
