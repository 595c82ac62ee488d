"""The ReLU proximal step of three-splitting BCD (Zeng et al. 2019, Lemma 13; LOG-PBCD Eq. 12-13).

``relu_prox(a, s, eta) = argmin_z 1/2 (a - relu(z))^2 + eta/2 (z - s)^2`` elementwise, in the four-case closed
form of LOG-PBCD Eq. 13 (``k = sqrt(eta (eta + 1)) - eta``)::

    (a + eta s) / (1 + eta)   if a + eta s >= 0 and s >= 0
    (a + eta s) / (1 + eta)   if -k a <= eta s < 0
    s                         if -a <= eta s <= -k a
    min(s, 0)                 if a + eta s < 0

:func:`relu_prox_exact` computes the same minimiser by comparing the two branch minimisers (``z >= 0``: the
clamped quadratic minimiser; ``z <= 0``: ``min(s, 0)``); the tests check both against brute force.
"""
from __future__ import annotations

import math

import torch

from zoo.errors import ConfigError

Param = float | torch.Tensor


def relu_objective(z: torch.Tensor, a: torch.Tensor, s: torch.Tensor, eta: Param) -> torch.Tensor:
    """``1/2 (a - relu(z))^2 + eta/2 (z - s)^2`` elementwise (Eq. 12)."""
    return 0.5 * (a - torch.relu(z)) ** 2 + 0.5 * eta * (z - s) ** 2


def relu_prox(a: torch.Tensor, s: torch.Tensor, eta: float) -> torch.Tensor:
    """LOG-PBCD's closed form (Eq. 13), the cases tested in the order written."""
    if eta <= 0:
        raise ConfigError(f"relu_prox needs eta > 0, got {eta}")
    k = math.sqrt(eta * (eta + 1)) - eta
    es = eta * s
    linear = (a + es) / (1 + eta)
    case1 = (a + es >= 0) & (s >= 0)
    case2 = (-k * a <= es) & (es < 0)
    case3 = (-a <= es) & (es <= -k * a)
    return torch.where(case1 | case2, linear, torch.where(case3, s, torch.clamp(s, max=0.0)))


def relu_prox_exact(a: torch.Tensor, s: torch.Tensor, eta: Param) -> torch.Tensor:
    """The global minimiser of :func:`relu_objective` by comparing the minimisers of its two convex branches."""
    positive = torch.clamp((a + eta * s) / (1 + eta), min=0.0)
    negative = torch.clamp(s, max=0.0)
    take_positive = relu_objective(positive, a, s, eta) <= relu_objective(negative, a, s, eta)
    return torch.where(take_positive, positive, negative)
