"""The algorithm interface: what a federated method plugs into the engine (FL-Simulator's hook trio and more).

Subclass :class:`Algorithm` and override only what your method changes; the base class is FedAvg. Every hook
runs in the same place whatever the back-end (in-process simulator, batched trainer, Flower, torch.distributed).

==============================  =========================================================================
hook                            used for
==============================  =========================================================================
``message_sizes(P)``            names and lengths of the vectors a client sends up (``{"delta": P}``);
                                names in ``raw_messages`` are not model-shaped (representations, logits,
                                prototypes): sent whole, counted, never averaged by the engine
``init_server_state``           server tensors kept across rounds (SCAFFOLD ``c``, FedSpeed ``h``)
``init_client_state``           per-client tensors kept across rounds (SCAFFOLD ``c_i``, masks, pools)
``payload``                     extra vectors sent down to a client (SCAFFOLD ``c``, prototypes)
``downlink``                    the model a client receives (per-client: FED-PUB, cluster models)
``start_weights``               the model a client starts from (FedSpeed relaxed init; default: received)
``recipe``                      this client's recipe this round (stragglers, anchors, anarchic steps)
``client_indices``              the samples the client trains on this round (active learning, streams)
``local_rule``                  the :class:`~zoo.engines.federated.local.LocalRule` (prox, SAM, control variates)
``message``                     what the client sends after local training
``client_weight``               aggregation weight of a client (``n_k`` or uniform)
``aggregate``                   the new global model (``global_update``); gets an :class:`AggregationInfo`
                                (clients, staleness, sample counts)
``server_step``                 server-side compute after aggregation (distillation, synthesis, clustering,
                                changing client data) through a :class:`ServerView`
``personal_weights``            the model a client is evaluated with (default: global + its local parts)
==============================  =========================================================================

Model-shaped messages and the models sent down travel as *wire vectors*: only the ``aggregate``-role entries of
the layout. ``local`` entries never leave the client and ``frozen`` ones are never sent, so neither is counted in
the byte ledger or changed by aggregation (the engine restores them after ``aggregate``).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch

from zoo.engines.federated.aggregators import Aggregator, WeightedFedAvg
from zoo.engines.federated.local import LocalContext, LocalRecipe, LocalRule

if TYPE_CHECKING:
    from zoo.engines.federated.server import ServerView


@dataclass(frozen=True)
class AggregationInfo:
    """Who the ``K`` aggregated messages come from.

    Attributes:
        round_idx: the server round (model version in asynchronous runs).
        clients: the clients, in the order of the message rows.
        num_clients: N, registered clients.
        staleness: ``[K]`` model versions elapsed since each client downloaded its start model (0 when
            synchronous).
        num_samples: ``[K]`` samples each client trained on.
        cohort: the architecture group aggregated (``"default"`` unless clients differ in architecture).
    """

    round_idx: int
    clients: Sequence[int]
    num_clients: int
    staleness: torch.Tensor = field(default_factory=lambda: torch.zeros(0))
    num_samples: torch.Tensor = field(default_factory=lambda: torch.zeros(0))
    cohort: str = "default"


class Algorithm:
    """FedAvg; the base class of every federated method.

    Args:
        aggregator: how updates become the new global model (default: n_k-weighted FedAvg).
        weighting: ``"samples"`` (n_k) or ``"uniform"`` client weights.
        staleness: optional ``s(tau)`` multiplying each update's weight in asynchronous runs
            (:func:`~zoo.engines.federated.aggregators.polynomial_staleness`).
    """

    name: str = "fedavg"
    #: uplink messages that are not model-shaped (sent whole, never sliced to the wire entries)
    raw_messages: frozenset[str] = frozenset()
    #: hooks work on stacked ``[K, P]`` client tensors too (the batched trainer may be used)
    batchable: bool = True

    def __init__(self, aggregator: Aggregator | None = None, weighting: Literal["samples", "uniform"] = "samples",
                 staleness: Callable[[torch.Tensor], torch.Tensor] | None = None) -> None:
        self.aggregator: Aggregator = aggregator or WeightedFedAvg()
        self.weighting = weighting
        self.staleness = staleness

    def message_sizes(self, num_params: int) -> dict[str, int]:
        """``{name: length}`` of each uplink vector (model-shaped ones have length ``num_params``)."""
        return {"delta": num_params}

    def init_server_state(self, global_vec: torch.Tensor) -> dict[str, torch.Tensor]:
        """Server tensors kept across rounds."""
        return {}

    def init_client_state(self, client: int, global_vec: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-client tensors kept across rounds."""
        return {}

    def payload(self, server_state: dict[str, torch.Tensor], client: int) -> dict[str, torch.Tensor]:
        """Vectors sent down with the model (counted in the byte ledger)."""
        return {}

    def downlink(self, global_vec: torch.Tensor, server_state: dict[str, torch.Tensor], client: int) -> torch.Tensor:
        """The model sent to ``client`` (full ``[P]``; only its wire entries travel). Default: the global model."""
        return global_vec

    def start_weights(self, received: torch.Tensor, own: torch.Tensor, client_state: dict[str, torch.Tensor]) -> torch.Tensor:
        """The model the client starts local training from.

        ``received`` is what arrived (after the downlink codec), ``own`` the client's personal model (``received``
        with the client's ``local`` entries). Whatever this returns, ``local`` entries are the client's own.
        """
        return received

    def recipe(self, client: int, round_idx: int, base: LocalRecipe, client_state: dict[str, torch.Tensor]) -> LocalRecipe:
        """The recipe of ``client`` in ``round_idx`` (default: the run's). Change steps, batch size, lr..."""
        return base

    def client_indices(self, client: int, round_idx: int, indices: np.ndarray,
                       client_state: dict[str, torch.Tensor]) -> np.ndarray:
        """The samples of its dataset ``client`` trains on this round (default: all it holds)."""
        return indices

    def local_rule(self) -> LocalRule:
        """Local update rule (plain SGD steps for FedAvg)."""
        return LocalRule()

    def message(self, ctx: LocalContext) -> dict[str, torch.Tensor]:
        """What the client sends up: its model change ``Delta = w_local - w_start``."""
        return {"delta": ctx.weights - ctx.start}

    def client_weight(self, num_samples: int) -> float:
        """Aggregation weight before normalisation."""
        return float(num_samples) if self.weighting == "samples" else 1.0

    def aggregate(
        self,
        global_vec: torch.Tensor,
        server_state: dict[str, torch.Tensor],
        messages: dict[str, torch.Tensor],
        weights: torch.Tensor,
        info: AggregationInfo,
    ) -> torch.Tensor:
        """The next global vector; ``messages[name]`` is ``[K, P]`` (model-shaped) for the K accepted clients."""
        return self.aggregator(global_vec, messages["delta"], self.staleness_weights(weights, info), server_state)

    def staleness_weights(self, weights: torch.Tensor, info: AggregationInfo) -> torch.Tensor:
        """``weights * s(staleness)``, renormalised (unchanged without a staleness function)."""
        if self.staleness is None or info.staleness.numel() == 0:
            return weights
        w = weights.to(torch.float64) * self.staleness(info.staleness.to(torch.float64)).to(weights.device)
        return (w / w.sum()).to(weights.dtype)

    def server_step(self, server: ServerView) -> None:
        """Server-side computation after the round's aggregation (default: nothing)."""

    def personal_weights(self, global_vec: torch.Tensor, own: torch.Tensor, client: int,
                         client_state: dict[str, torch.Tensor]) -> torch.Tensor:
        """The model ``client`` is evaluated with (default ``own``: the global model with its local parts)."""
        return own

    def describe(self) -> dict[str, Any]:
        """A JSON-able summary for records."""
        return {"name": self.name, "weighting": self.weighting}
