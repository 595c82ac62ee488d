"""Byzantine clients as fault models: what a faulty participant sends instead of its honest vector.

:class:`Byzantine` names the faulty clients (or nodes) and an attack. The engine applies it to what they send: the
model-shaped uplink messages of a server round (their updates) and the models a node sends its neighbours in a
decentralised round. Attacks are omniscient when they need to be (ALIE sees the honest vectors of the round).

* :class:`SignFlip`: ``-scale * x`` (the vector's sign reversed);
* :class:`GaussianAttack`: ``N(0, sigma^2)`` noise (``around="own"``: the honest vector plus that noise);
* :class:`ALIE` (Baruch et al. 2019, "A little is enough"): ``mean - z * std`` of the honest vectors, coordinate by
  coordinate, with ``z`` defaulting to ``z_max = Phi^-1((n - s) / n)``, ``s = floor(n / 2 + 1) - f``.

Noise is drawn from ``(seed, "byzantine", round, step)``, so runs stay reproducible.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal, Protocol

import torch

from zoo.errors import FederatedError
from zoo.engines.federated.seeding import torch_generator


class Attack(Protocol):
    """Forges the vectors of the Byzantine senders."""

    def forge(self, own: torch.Tensor, honest: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """``own[B, P]``: the Byzantine senders' honest vectors; ``honest[H, P]``: everyone else's. -> ``[B, P]``."""
        ...


@dataclass(frozen=True)
class SignFlip:
    """Send ``-scale`` times the honest vector."""

    scale: float = 1.0

    def forge(self, own: torch.Tensor, honest: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Reverse the sign."""
        return -self.scale * own


@dataclass(frozen=True)
class GaussianAttack:
    """Send Gaussian noise of standard deviation ``sigma`` (around zero, or around the honest vector)."""

    sigma: float = 1.0
    around: Literal["zero", "own"] = "zero"

    def forge(self, own: torch.Tensor, honest: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Noise (drawn on the CPU from the run's seeded generator)."""
        noise = torch.randn(own.shape, generator=gen, dtype=own.dtype).to(own.device) * self.sigma
        return noise if self.around == "zero" else own + noise


def alie_z(n: int, f: int) -> float:
    """ALIE's ``z_max`` for ``n`` participants of which ``f`` are Byzantine."""
    s = n // 2 + 1 - f
    p = (n - s) / n
    if not 0.0 < p < 1.0:
        raise FederatedError(f"ALIE needs 0 < (n - s) / n < 1, got n={n}, f={f}")
    return NormalDist().inv_cdf(p)


@dataclass(frozen=True)
class ALIE:
    """Send ``mean - z * std`` of the honest vectors (coordinate-wise); ``z=None``: ALIE's ``z_max``."""

    z: float | None = None

    def forge(self, own: torch.Tensor, honest: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """All Byzantine senders send the same vector, just inside the honest spread."""
        if honest.shape[0] < 2:
            raise FederatedError("ALIE needs at least two honest vectors to estimate their spread")
        n = honest.shape[0] + own.shape[0]
        z = self.z if self.z is not None else alie_z(n, own.shape[0])
        forged = honest.mean(0) - z * honest.std(0, unbiased=False)
        return forged.expand_as(own).clone()


class Byzantine:
    """Which participants are Byzantine (``clients``), and how they attack."""

    def __init__(self, clients: Iterable[int], attack: Attack, seed: int = 0) -> None:
        self.clients = frozenset(int(c) for c in clients)
        self.attack = attack
        self.seed = int(seed)

    def __repr__(self) -> str:
        return f"Byzantine(clients={sorted(self.clients)}, attack={self.attack!r})"

    def apply(self, senders: list[int], vectors: torch.Tensor, round_idx: int, step: int = 0) -> torch.Tensor:
        """``vectors[K, P]`` sent by ``senders`` with the Byzantine rows forged (a new tensor when any is)."""
        bad = [i for i, s in enumerate(senders) if s in self.clients]
        if not bad:
            return vectors
        good = [i for i, s in enumerate(senders) if s not in self.clients]
        out = vectors.clone()
        gen = torch_generator(self.seed, "byzantine", round_idx, step)
        honest = vectors[good] if good else vectors[:0]
        out[bad] = self.attack.forge(vectors[bad], honest, gen).to(vectors.dtype)
        return out
