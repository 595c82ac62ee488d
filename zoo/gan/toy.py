"""Toy target distributions for GANs: mixtures of 2-D Gaussians (a ring of modes or a square grid), the usual
testbed for mode coverage and for distances that can be computed exactly."""
from __future__ import annotations

import math

import torch

from zoo.errors import ConfigError

__all__ = ["mixture_centres", "sample_mixture"]


def mixture_centres(modes: int = 8, layout: str = "ring", radius: float = 2.0) -> torch.Tensor:
    """Centres ``[modes, 2]``: ``ring`` puts them evenly on a circle of ``radius``; ``grid`` on a square grid
    spanning ``[-radius, radius]^2`` (``modes`` must be a square)."""
    if modes < 1:
        raise ConfigError(f"a mixture needs at least one mode, got {modes}")
    if layout == "ring":
        angles = torch.arange(modes, dtype=torch.float64) * (2 * math.pi / modes)
        return (radius * torch.stack([angles.cos(), angles.sin()], 1)).float()
    if layout == "grid":
        side = math.isqrt(modes)
        if side * side != modes:
            raise ConfigError(f"a grid mixture needs a square number of modes, got {modes}")
        axis = torch.linspace(-radius, radius, side) if side > 1 else torch.zeros(1)
        return torch.cartesian_prod(axis, axis).float()
    raise ConfigError(f"unknown mixture layout {layout!r}; expected ring or grid")


def sample_mixture(n: int, modes: int = 8, layout: str = "ring", radius: float = 2.0, std: float = 0.02,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` points ``[n, 2]`` from the equal-weight mixture of isotropic Gaussians (``std``) at the centres."""
    centres = mixture_centres(modes, layout, radius)
    which = torch.randint(len(centres), (n,), generator=generator)
    return centres[which] + std * torch.randn(n, 2, generator=generator)
