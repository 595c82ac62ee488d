"""GAN objectives as objects the two-player loop can run: what the critic and the generator minimise in one step,
and how the critic is kept Lipschitz (weight clipping after each critic step, or a gradient penalty).

``make_objective(name, **kw)`` builds one: ``bce`` (non-saturating), ``bce-saturating``, ``hinge``, ``wgan``
(weight clipping, ``clip=0.01``), ``wgan-gp`` (``gp_weight=10``), ``ralsgan``, ``quantile`` (QR-GAN: a critic
``f(x, tau)`` scored at ``n_quantiles`` fractions, weights clipped to ``clip=0.05``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from zoo.errors import ConfigError
from zoo.gan import losses as L

Critic = Callable[..., torch.Tensor]
Metrics = dict[str, float]


def quantile_fractions(n: int, kind: str = "midpoints", generator: torch.Generator | None = None,
                       device: Any = None) -> torch.Tensor:
    """``n`` quantile fractions in (0, 1): the midpoints ``(2i + 1) / 2n`` (QR-DQN's ``tau_hat``), ``uniform``
    draws (IQN), or ``sorted-uniform`` (uniform draws in increasing order)."""
    if n < 1:
        raise ConfigError(f"need at least one quantile fraction, got {n}")
    if kind == "midpoints":
        return (torch.arange(n, dtype=torch.float32, device=device) + 0.5) / n
    if kind in ("uniform", "sorted-uniform"):
        u = torch.rand(n, generator=generator, device=device)
        return u.sort().values if kind == "sorted-uniform" else u
    raise ConfigError(f"unknown quantile fractions {kind!r}; expected midpoints, uniform or sorted-uniform")


@dataclass(frozen=True)
class Objective:
    """One GAN objective. ``critic_loss``/``generator_loss`` return ``(loss to minimise, metrics)``.

    ``clip``: clamp the critic's weights to ``[-clip, clip]`` after every critic step (WGAN, QR-GAN);
    ``gp_weight``: add :func:`~zoo.gan.losses.gradient_penalty` with this weight to the critic loss.
    """

    name: str
    clip: float | None = None
    gp_weight: float = 0.0

    def critic_loss(self, critic: Critic, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, Metrics]:
        r, f = critic(real), critic(fake)
        if self.name in ("bce", "bce-saturating"):
            loss = L.bce_discriminator_loss(r, f)
        elif self.name == "hinge":
            loss = L.hinge_discriminator_loss(r, f)
        elif self.name in ("wgan", "wgan-gp"):
            loss = L.wasserstein_critic_loss(r, f)
        elif self.name == "ralsgan":
            loss = L.ralsgan_discriminator_loss(r, f)
        else:  # pragma: no cover - make_objective validates the name
            raise ConfigError(f"unknown GAN objective {self.name!r}")
        metrics = {"critic_loss": float(loss.detach()), "w_estimate": float(L.wasserstein_estimate(r, f).detach())}
        if self.gp_weight:
            gp = L.gradient_penalty(critic, real, fake, weight=self.gp_weight)
            loss = loss + gp
            metrics["gradient_penalty"] = float(gp.detach())
        return loss, metrics

    def generator_loss(self, critic: Critic, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, Metrics]:
        f = critic(fake)
        if self.name == "bce":
            loss = L.bce_generator_loss(f)
        elif self.name == "bce-saturating":
            loss = L.bce_generator_loss(f, saturating=True)
        elif self.name == "hinge":
            loss = L.hinge_generator_loss(f)
        elif self.name in ("wgan", "wgan-gp"):
            loss = L.wasserstein_generator_loss(f)
        elif self.name == "ralsgan":
            loss = L.ralsgan_generator_loss(critic(real), f)
        else:  # pragma: no cover
            raise ConfigError(f"unknown GAN objective {self.name!r}")
        return loss, {"generator_loss": float(loss.detach())}


@dataclass(frozen=True)
class QuantileObjective(Objective):
    """QR-GAN: the critic ``f(x, taus) -> [m, N]`` maximises Alg. 1 line 5 and the generator minimises line 10
    (:mod:`zoo.gan.losses`), at ``n_quantiles`` fractions of kind ``fractions`` (redrawn each call unless
    ``midpoints``). ``target_quantiles`` (M) fractions index the real scores in the generator loss (default N).
    ``generator="sorted"`` replaces line 10 by :func:`~zoo.gan.losses.score_w1_loss` (W1 between the real and
    generated score distributions at each fraction, Eq. 6) -- not the paper's algorithm."""

    n_quantiles: int = 16
    target_quantiles: int | None = None
    fractions: str = "midpoints"
    generator: str = "pinball"

    def __post_init__(self) -> None:
        if self.generator not in ("pinball", "sorted"):
            raise ConfigError(f"quantile generator loss must be 'pinball' or 'sorted', got {self.generator!r}")

    def taus(self, n: int, device: Any) -> torch.Tensor:
        return quantile_fractions(n, self.fractions, device=device)

    def critic_loss(self, critic: Critic, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, Metrics]:
        taus = self.taus(self.n_quantiles, real.device)
        objective = L.quantile_critic_objective(critic(real, taus), critic(fake, taus), taus)
        loss = -objective
        metrics = {"critic_loss": float(loss.detach()), "qr_objective": float(objective.detach())}
        if self.gp_weight:
            gp = L.gradient_penalty(lambda x: critic(x, taus), real, fake, weight=self.gp_weight)
            loss = loss + gp
            metrics["gradient_penalty"] = float(gp.detach())
        return loss, metrics

    def generator_loss(self, critic: Critic, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, Metrics]:
        taus_i = self.taus(self.n_quantiles, real.device)
        if self.generator == "sorted":
            loss = L.score_w1_loss(critic(real, taus_i), critic(fake, taus_i))
            return loss, {"generator_loss": float(loss.detach())}
        taus_j = self.taus(self.target_quantiles or self.n_quantiles, real.device)
        loss = L.quantile_generator_loss(critic(real, taus_j), critic(fake, taus_i), taus_i)
        return loss, {"generator_loss": float(loss.detach())}


#: Objective names and their defaults.
OBJECTIVES: dict[str, dict[str, Any]] = {
    "bce": {}, "bce-saturating": {}, "hinge": {}, "wgan": {"clip": 0.01}, "wgan-gp": {"gp_weight": 10.0},
    "ralsgan": {}, "quantile": {"clip": 0.05},
}


def make_objective(name: str, **overrides: Any) -> Objective:
    """The objective ``name`` with its defaults (``OBJECTIVES``) updated by ``overrides``
    (``clip=...``, ``gp_weight=...``; for ``quantile``: ``n_quantiles``, ``target_quantiles``, ``fractions``)."""
    if name not in OBJECTIVES:
        raise ConfigError(f"unknown GAN objective {name!r}; expected one of {', '.join(OBJECTIVES)}")
    kwargs = {**OBJECTIVES[name], **overrides}
    if kwargs.get("clip") is not None and kwargs["clip"] <= 0:
        raise ConfigError(f"{name}: clip must be positive or None, got {kwargs['clip']}")
    if name == "quantile":
        return QuantileObjective(name, **kwargs)
    unknown = set(kwargs) - {"clip", "gp_weight"}
    if unknown:
        raise ConfigError(f"{name}: unknown settings {sorted(unknown)}; expected clip, gp_weight")
    return Objective(name, **kwargs)
