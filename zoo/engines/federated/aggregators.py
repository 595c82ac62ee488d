"""Server aggregators, robust combiners and staleness weights.

An aggregator is called as ``agg(global_vec, deltas[K, P], weights[K], state) -> new_global`` where ``weights``
are already normalised to sum to 1 and ``state`` is the aggregator's own dict (kept by the server between rounds).

A *combiner* reduces ``K`` vectors to one: ``combine(vectors[K, P], weights[K]) -> [P]``. The same combiner
serves the server (:class:`RobustFedAvg` applies it to the updates) and each node of a decentralised run
(``DecentralizedSimulator(node_combiner=...)`` applies it to the node's own and its neighbours' models instead of
the linear gossip product): :class:`WeightedMean` (the linear rule), :class:`CoordinateMedian`,
:class:`TrimmedMean`. MoNNA's nearest-neighbour averaging, FedLD's principal-gradient projection and server
optimisers (FedAdam, FedHyper) are plugins implementing these calls.

Staleness (asynchronous runs): :func:`polynomial_staleness` gives FedAsync's ``(1 + tau)^-a`` weights; an
:class:`~zoo.engines.federated.algorithm.Algorithm` built with ``staleness=`` multiplies each update's weight by it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch

from zoo.errors import FederatedError
from zoo.engines.federated.mixing import mix


class Aggregator(Protocol):
    """``(global_vec, deltas, weights, state) -> new_global`` (may update ``state`` in place)."""

    def __call__(
        self, global_vec: torch.Tensor, deltas: torch.Tensor, weights: torch.Tensor, state: dict[str, torch.Tensor]
    ) -> torch.Tensor:
        """The new global vector."""
        ...


class Combiner(Protocol):
    """``combine(vectors[K, P], weights[K]) -> [P]``: one vector from K (robust or linear)."""

    def combine(self, vectors: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Reduce the rows."""
        ...


def weighted_mean(deltas: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """``sum_k weights_k deltas_k`` as one ``[1, K] @ [K, P]`` product through ``ops.mix``."""
    if deltas.dim() != 2 or weights.shape != (deltas.shape[0],):
        raise FederatedError(f"weighted_mean: deltas {tuple(deltas.shape)} and weights {tuple(weights.shape)} mismatch")
    return mix(weights.reshape(1, -1), deltas)[0]


@dataclass(frozen=True)
class WeightedFedAvg:
    """``w <- w + server_lr * sum_k p_k Delta_k`` (McMahan et al. with server_lr = 1)."""

    server_lr: float = 1.0

    def __call__(
        self, global_vec: torch.Tensor, deltas: torch.Tensor, weights: torch.Tensor, state: dict[str, torch.Tensor]
    ) -> torch.Tensor:
        """Weighted average of the client updates."""
        return global_vec + self.server_lr * weighted_mean(deltas, weights)


@dataclass(frozen=True)
class ServerMomentum:
    """FedAvgM (Hsu et al. 2019): ``v <- beta v + avg Delta``; ``w <- w + server_lr * v``."""

    beta: float = 0.9
    server_lr: float = 1.0

    def __call__(
        self, global_vec: torch.Tensor, deltas: torch.Tensor, weights: torch.Tensor, state: dict[str, torch.Tensor]
    ) -> torch.Tensor:
        """Momentum on the averaged update."""
        avg = weighted_mean(deltas, weights)
        v = state.get("momentum")
        v = avg if v is None else self.beta * v + avg
        state["momentum"] = v
        return global_vec + self.server_lr * v


@dataclass(frozen=True)
class WeightedMean:
    """The linear combiner: ``sum_k w_k x_k`` (gossip's own rule)."""

    def combine(self, vectors: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Weighted mean of the rows (weights normalised here)."""
        w = weights / weights.sum()
        return weighted_mean(vectors, w.to(vectors.dtype))


@dataclass(frozen=True)
class CoordinateMedian:
    """Coordinate-wise median of the rows (weights ignored; Yin et al. 2018)."""

    def combine(self, vectors: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Median of each coordinate (the lower one for an even count)."""
        return vectors.median(dim=0).values


@dataclass(frozen=True)
class TrimmedMean:
    """Coordinate-wise mean after dropping the ``trim`` largest and ``trim`` smallest values (Yin et al. 2018)."""

    trim: int = 1

    def combine(self, vectors: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Sort each coordinate, drop both tails, average the rest."""
        k = vectors.shape[0]
        if 2 * self.trim >= k:
            raise FederatedError(f"TrimmedMean(trim={self.trim}) needs more than {2 * self.trim} vectors, got {k}")
        s = vectors.sort(dim=0).values
        return s[self.trim : k - self.trim].mean(0)


@dataclass(frozen=True)
class RobustFedAvg:
    """``w <- w + server_lr * combine(deltas)``: a server aggregator from any :class:`Combiner`."""

    combiner: Combiner
    server_lr: float = 1.0

    def __call__(
        self, global_vec: torch.Tensor, deltas: torch.Tensor, weights: torch.Tensor, state: dict[str, torch.Tensor]
    ) -> torch.Tensor:
        """The combined update."""
        return global_vec + self.server_lr * self.combiner.combine(deltas, weights)


def polynomial_staleness(exponent: float = 0.5) -> Callable[[torch.Tensor], torch.Tensor]:
    """FedAsync's (Xie et al. 2019) polynomial staleness weight ``s(tau) = (1 + tau)^-exponent``."""
    if exponent < 0:
        raise FederatedError(f"staleness exponent must be >= 0, got {exponent}")

    def weight(staleness: torch.Tensor) -> torch.Tensor:
        return (1.0 + staleness.to(torch.float64)).pow(-exponent)

    return weight


def hinge_staleness(a: float = 10.0, b: float = 4.0) -> Callable[[torch.Tensor], torch.Tensor]:
    """FedAsync's hinge weight: 1 up to ``b`` rounds of staleness, then ``1 / (a (tau - b) + 1)``."""

    def weight(staleness: torch.Tensor) -> torch.Tensor:
        tau = staleness.to(torch.float64)
        return torch.where(tau <= b, torch.ones_like(tau), 1.0 / (a * (tau - b) + 1.0))

    return weight
