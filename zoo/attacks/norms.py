"""Threat-model geometry shared by every attack: per-sample norms, steepest-ascent directions, projections, clipping.

All functions are batched: the first axis is the sample axis and a budget ``eps`` is either a float or a tensor of
one value per sample (shape ``[B]``). Supported norms are ``"linf"`` and ``"l2"`` (``"l1"`` only for the gradient
normalisation of the momentum attacks).
"""
from __future__ import annotations

import torch

from zoo.errors import ConfigError

NORMS: tuple[str, ...] = ("linf", "l2")
#: Floor under a norm before dividing by it (a zero gradient stays zero instead of becoming NaN).
TINY = 1e-12

Budget = float | torch.Tensor


def check_norm(norm: str) -> str:
    """Return ``norm`` if it is a supported threat model, else raise :class:`~zoo.errors.ConfigError`."""
    if norm not in NORMS:
        raise ConfigError(f"unknown attack norm {norm!r}; expected one of {', '.join(NORMS)}")
    return norm


def per_sample(value: Budget, like: torch.Tensor) -> torch.Tensor:
    """``value`` (a float or a ``[B]`` tensor) shaped ``[B, 1, ..., 1]`` to broadcast over ``like``."""
    t = torch.as_tensor(value, dtype=like.dtype, device=like.device)
    if t.dim() == 0:
        return t
    if t.shape != (like.shape[0],):
        raise ConfigError(f"a per-sample budget needs shape ({like.shape[0]},), got {tuple(t.shape)}")
    return t.view(-1, *([1] * (like.dim() - 1)))


def lp_norm(x: torch.Tensor, p: str) -> torch.Tensor:
    """Per-sample ``p``-norm (``"linf"``, ``"l2"`` or ``"l1"``) of ``x`` as a ``[B]`` tensor."""
    flat = x.reshape(x.shape[0], -1)
    if p == "linf":
        return flat.abs().amax(dim=1)
    if p == "l2":
        return flat.norm(p=2, dim=1)
    if p == "l1":
        return flat.abs().sum(dim=1)
    raise ConfigError(f"unknown norm {p!r}; expected linf, l2 or l1")


def normalize(x: torch.Tensor, p: str) -> torch.Tensor:
    """``x / ||x||_p`` per sample (MI-FGSM divides the gradient by its L1 norm, Eq. 4 of MI-FGSM)."""
    scale = lp_norm(x, p).clamp_min(TINY)
    return x / scale.view(-1, *([1] * (x.dim() - 1)))


def ascent_direction(grad: torch.Tensor, norm: str) -> torch.Tensor:
    """The steepest-ascent unit step for the threat model: ``sign(g)`` (L-inf) or ``g / ||g||_2`` (L2)."""
    if check_norm(norm) == "linf":
        return grad.sign()
    return normalize(grad, "l2")


def project(delta: torch.Tensor, eps: Budget, norm: str) -> torch.Tensor:
    """Euclidean projection of the perturbation ``delta`` onto the ``norm`` ball of radius ``eps``."""
    radius = per_sample(eps, delta)
    if check_norm(norm) == "linf":
        return torch.maximum(torch.minimum(delta, radius), -radius)
    length = lp_norm(delta, "l2").view(-1, *([1] * (delta.dim() - 1)))
    return delta * torch.clamp(radius / length.clamp_min(TINY), max=1.0)


def clip_to_domain(x: torch.Tensor, bounds: tuple[float, float] | None) -> torch.Tensor:
    """Clamp ``x`` into the input domain ``bounds = (low, high)`` (``None`` = unbounded)."""
    if bounds is None:
        return x
    low, high = bounds
    return x.clamp(low, high)


def clip_eps(x_adv: torch.Tensor, x: torch.Tensor, eps: Budget, norm: str = "linf",
             bounds: tuple[float, float] | None = (0.0, 1.0)) -> torch.Tensor:
    """``Clip^eps_x{x_adv}``: project ``x_adv - x`` onto the eps-ball, then clamp into the input domain.

    For L-inf this is the elementwise ``min{high, x + eps, max{low, x - eps, x_adv}}`` of I-FGSM (Eq. 3 of
    MAI-FGPLM); the result is inside both the ball and the domain (the domain is a box containing ``x``).
    """
    return clip_to_domain(x + project(x_adv - x, eps, norm), bounds)


def random_start(x: torch.Tensor, eps: Budget, norm: str,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """A random perturbation drawn uniformly from the ``norm`` ball of radius ``eps`` (PGD/FAST-FGSM init)."""
    radius = per_sample(eps, x)
    if check_norm(norm) == "linf":
        u = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        return (2 * u - 1) * radius
    direction = normalize(torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device), "l2")
    dim = x[0].numel()
    r = torch.rand(x.shape[0], generator=generator, dtype=x.dtype, device=x.device) ** (1.0 / dim)
    return direction * r.view(-1, *([1] * (x.dim() - 1))) * radius
