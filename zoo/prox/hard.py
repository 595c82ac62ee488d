"""Hard thresholding: the proximal operator of the L0 penalty ``(theta^2 / 2) * [a != 0]``."""
from __future__ import annotations

import torch

Param = float | torch.Tensor


def hard_threshold(x: torch.Tensor, theta: Param) -> torch.Tensor:
    """``H_theta(x) = x * [|x| > theta]`` elementwise (at ``|x| = theta`` both ``0`` and ``x`` are minimisers;
    this returns ``0``)."""
    return x * (x.abs() > theta).to(x.dtype)


def l0_penalty(a: torch.Tensor, theta: Param) -> torch.Tensor:
    """``(theta^2 / 2) * [a != 0]`` elementwise."""
    return 0.5 * torch.as_tensor(theta, dtype=a.dtype) ** 2 * (a != 0).to(a.dtype)


def hard_objective(a: torch.Tensor, x: torch.Tensor, theta: Param) -> torch.Tensor:
    """The prox objective ``1/2 (a - x)^2 + (theta^2/2) [a != 0]`` that :func:`hard_threshold` minimises."""
    return 0.5 * (a - x) ** 2 + l0_penalty(a, theta)
