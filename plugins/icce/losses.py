"""ICCE (Eq. 5-6) and the baselines it is compared with (CCE, MAE, GCE), as per-batch means.

ICCE for the probability ``p = p(y|x)`` of the labelled class::

    L(p) = integral_p^1 e^{T (q - 0.5)} / q dq = e^{-T/2} (Ei(T) - Ei(T p))
         = e^{-T/2} ( -ln p + sum_{k >= 1} T^k (1 - p^k) / (k k!) )          (series of the exponential integral)

    dL/dz_j = e^{T (p - 0.5)} (p_j - [j = y])                                 (Eq. 6: CE's gradient times a weight)

T = 0 gives CE. The series converges for every p in (0, 1]; ``n_terms`` defaults to enough terms that the
remainder is below float64 round-off for T <= 30. Autograd through the series gives Eq. 6.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from zoo.errors import ConfigError

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def series_terms(T: float) -> int:
    """Number of series terms for ``T``: the terms T^k / (k k!) fall below 1e-17 * e^T well before this."""
    return int(2 * math.ceil(T) + 40)


def icce_per_sample(logits: torch.Tensor, labels: torch.Tensor, T: float = 4.0,
                    n_terms: int | None = None) -> torch.Tensor:
    """The ICCE loss value ``e^{-T/2} (Ei(T) - Ei(T p_y))`` per sample (Eq. 5), differentiable (Eq. 6)."""
    log_p = F.log_softmax(logits.double(), dim=1).gather(1, labels[:, None]).squeeze(1)
    value = -log_p
    if T > 0:
        k = torch.arange(1, (n_terms or series_terms(T)) + 1, dtype=torch.float64, device=logits.device)
        coeff = torch.exp(k * math.log(T) - torch.lgamma(k + 1)) / k  # T^k / (k k!)
        value = value + (coeff * (1 - torch.exp(k * log_p[:, None]))).sum(1)
    return (math.exp(-T / 2) * value).to(logits.dtype)


def icce_weight(p: torch.Tensor, T: float) -> torch.Tensor:
    """The implicit per-sample weight ``e^{T (p - 0.5)}`` that multiplies CE's logit gradient (Eq. 6)."""
    return torch.exp(T * (p - 0.5))


def icce(logits: torch.Tensor, labels: torch.Tensor, T: float = 4.0) -> torch.Tensor:
    """Batch-mean ICCE (exact value)."""
    return icce_per_sample(logits, labels, T).mean()


def icce_weighted(logits: torch.Tensor, labels: torch.Tensor, T: float = 4.0) -> torch.Tensor:
    """Batch mean of ``e^{T (p_y - 0.5)}.detach() * CE``: Eq. 6's gradient with CE's loss value scaled."""
    ce = F.cross_entropy(logits, labels, reduction="none")
    weight = icce_weight(torch.exp(-ce).detach(), T)
    return (weight * ce).mean()


def mae(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean absolute error between softmax and one-hot, ``sum_j |p_j - y_j| = 2 (1 - p_y)`` (gradient Eq. 3)."""
    p = F.softmax(logits, dim=1).gather(1, labels[:, None]).squeeze(1)
    return (2 * (1 - p)).mean()


def gce(logits: torch.Tensor, labels: torch.Tensor, q: float = 0.7) -> torch.Tensor:
    """Generalised cross-entropy (Zhang & Sabuncu 2018): ``(1 - p_y^q) / q``."""
    p = F.softmax(logits, dim=1).gather(1, labels[:, None]).squeeze(1)
    return ((1 - p.clamp_min(1e-12) ** q) / q).mean()


def get_loss(name: str, T: float = 4.0, form: str = "exact", q: float = 0.7) -> Loss:
    """The training loss called ``name`` (``icce``, ``ce``, ``mae``, ``gce``) with its parameters bound."""
    if name == "icce":
        return (lambda z, y: icce(z, y, T)) if form == "exact" else (lambda z, y: icce_weighted(z, y, T))
    if name == "ce":
        return F.cross_entropy
    if name == "mae":
        return mae
    if name == "gce":
        return lambda z, y: gce(z, y, q)
    raise ConfigError(f"unknown loss {name!r}; expected icce, ce, mae or gce")
