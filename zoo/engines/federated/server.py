"""The server side of a round, shared by every server-based back-end (simulator, batched, asynchronous, Flower).

:class:`ServerCore` holds one :class:`Cohort` per client architecture (template, layout, global vector, server
state) and does, per round: choose clients (sampler), build each client's downlink (``Algorithm.downlink`` +
payload, sliced to the wire entries and passed through the downlink codec with the server's per-client codec
state), and close the round: check the replies (fault policy), forge the Byzantine ones, aggregate each cohort's
accepted messages (``Algorithm.aggregate``), restore the entries that are not aggregated, and call
``Algorithm.server_step`` with a :class:`ServerView`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from zoo.errors import FederatedError
from zoo.engines.federated.algorithm import AggregationInfo, Algorithm
from zoo.engines.federated.attacks import Byzantine
from zoo.engines.federated.client import ClientRuntime, FederatedData, Reply
from zoo.engines.federated.codec import Codec, Identity, encode, whole
from zoo.engines.federated.faults import UpdatePolicy, enforce
from zoo.engines.federated.flat import load_flat, unbind
from zoo.engines.federated.records import RoundRecord
from zoo.engines.federated.sampling import ClientSampler
from zoo.engines.federated.store import ClientStore, MemoryStore


@dataclass
class Cohort:
    """One client architecture: its runtime (template, layout), global model and server state."""

    name: str
    runtime: ClientRuntime
    global_vec: torch.Tensor
    server_state: dict[str, torch.Tensor]

    @property
    def layout(self):  # -> ParamLayout
        """The cohort's parameter layout."""
        return self.runtime.layout

    def model_with(self, vector: torch.Tensor) -> nn.Module:
        """The cohort's template module holding ``vector`` (its own storage)."""
        model = self.runtime.model
        unbind(model)
        load_flat(model, vector)
        return model


@dataclass
class Downlink:
    """What the server sends one client: the model's wire vector (decoded), the payload, and their bytes."""

    client: int
    wire: torch.Tensor
    payload: dict[str, torch.Tensor]
    nbytes: int
    version: int = 0


@dataclass
class ServerView:
    """What ``Algorithm.server_step`` may read and change after a round's aggregation.

    Attributes:
        round_idx: the round just aggregated.
        cohorts: ``{name: Cohort}``; set ``cohort.global_vec`` / ``cohort.server_state`` to change them.
        replies: the accepted replies of the round (decoded messages, including raw ones).
        data: the federation's data when the server may see it (simulators), else ``None``.
        set_client_indices: ``fn(client, indices)`` changes what a client holds from the next round on (client
            data that changes over time), or ``None`` when the back-end cannot (Flower).
        store: the client store (read clients' states; server-side methods that keep per-client vectors).
    """

    round_idx: int
    cohorts: dict[str, Cohort]
    replies: list[Reply]
    data: FederatedData | None = None
    set_client_indices: Callable[[int, np.ndarray], None] | None = None
    store: ClientStore | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def model(self, cohort: str = "default") -> nn.Module:
        """The cohort's template module loaded with its current global model."""
        c = self.cohorts[cohort]
        return c.model_with(c.global_vec)


def as_cohort_map(value: Any, names: Sequence[str]) -> dict[str, Any]:
    """``{cohort: value}`` from a mapping (checked) or one value shared by all cohorts."""
    if isinstance(value, dict):
        missing = [n for n in names if n not in value]
        if missing:
            raise FederatedError(f"no entry for cohort(s) {missing}; got {sorted(value)}")
        return value
    return {n: value for n in names}


class ServerCore:
    """Server-side state and the steps of a round (see module docstring)."""

    def __init__(
        self, cohorts: dict[str, Cohort], cohort_of: Callable[[int], str], algorithm: Algorithm, num_clients: int,
        *, sampler: ClientSampler, seed: int = 0, downlink: Codec | None = None, policy: UpdatePolicy | None = None,
        byzantine: Byzantine | None = None, down_store: ClientStore | None = None,
    ) -> None:
        self.cohorts = cohorts
        self.cohort_of = cohort_of
        self.algorithm = algorithm
        self.num_clients = int(num_clients)
        self.sampler = sampler
        self.seed = int(seed)
        self.downlink = downlink or Identity()
        self.policy = policy or UpdatePolicy()
        self.byzantine = byzantine
        self.down_store = down_store if down_store is not None else MemoryStore()
        self.version = 0

    # ----------------------------------------------------------------------------------------------- send
    def select(self, round_idx: int) -> list[int]:
        """The clients of a round."""
        return self.sampler.sample(round_idx, self.num_clients, self.seed)

    def send(self, client: int, round_idx: int) -> Downlink:
        """Encode the model (per-client downlink) and payload for ``client``; count the bytes."""
        c = self.cohorts[self.cohort_of(client)]
        layout = c.layout
        full = self.algorithm.downlink(c.global_vec, c.server_state, client)
        state = self.down_store.get(client) or {}
        before = set(state)
        enc = encode(self.downlink, layout.to_wire(full), layout.segments("aggregate"), state, -1, round_idx,
                     "model")
        nbytes = enc.nbytes
        payload: dict[str, torch.Tensor] = {}
        for name, value in sorted(self.algorithm.payload(c.server_state, client).items()):
            wire, segments = self._payload_wire(c, value)
            penc = encode(self.downlink, wire, segments, state, -1, round_idx, "payload." + name)
            payload[name] = penc.decoded
            nbytes += penc.nbytes
        if state or before:
            self.down_store.put(client, state)
        return Downlink(client, enc.decoded, payload, nbytes, self.version)

    @staticmethod
    def _payload_wire(c: Cohort, value: torch.Tensor) -> tuple[torch.Tensor, tuple[tuple[str, int, int], ...]]:
        if value.dim() == 1 and value.numel() == c.layout.numel:
            return c.layout.to_wire(value), c.layout.segments("aggregate")
        return value.reshape(-1) if value.dim() != 1 else value, whole(value.numel())

    # ----------------------------------------------------------------------------------------------- receive
    def check(self, reply: Reply, round_idx: int) -> str | None:
        """Why a reply cannot be used (its own problem, or non-finite decoded values), applying the policy."""
        problem = reply.problem
        if problem is None:
            for name, value in reply.message.items():
                if not bool(torch.isfinite(value).all()):
                    problem = f"{name!r} arrived with {int((~torch.isfinite(value)).sum())} NaN/Inf values"
                    break
        if problem is not None and not enforce(self.policy, problem, reply.client, round_idx):
            return problem
        return None

    def close(self, round_idx: int, replies: Sequence[Reply], record: RoundRecord,
              view_extra: dict[str, Any] | None = None) -> list[Reply]:
        """Aggregate the accepted replies into each cohort's global model; returns the accepted replies.

        Replies are aggregated in client-id order whatever their arrival order, so every back-end gives the
        same weights.
        """
        accepted: list[Reply] = []
        for reply in sorted(replies, key=lambda r: r.client):
            problem = self.check(reply, round_idx)
            if problem is not None:
                record.dropped[reply.client] = problem
                continue
            accepted.append(reply)
            record.bytes_up += reply.nbytes
        if self.byzantine is not None and accepted:
            self._forge(accepted, round_idx)
        for name, cohort in self.cohorts.items():
            mine = [r for r in accepted if self.cohort_of(r.client) == name]
            if mine:
                self._aggregate(cohort, mine, round_idx)
        record.clients = [r.client for r in accepted]
        if accepted:
            record.loss = float(np.mean([r.loss for r in accepted]))
        record.steps = {r.client: r.steps for r in accepted}
        self.version += 1
        view = ServerView(round_idx, self.cohorts, accepted, extra=dict(view_extra or {}))
        if view_extra:
            view.data = view_extra.get("data")
            view.set_client_indices = view_extra.get("set_client_indices")
            view.store = view_extra.get("store")
        self.algorithm.server_step(view)
        return accepted

    def _forge(self, accepted: list[Reply], round_idx: int) -> None:
        assert self.byzantine is not None
        for name in sorted(accepted[0].message):
            rows = [r for r in accepted if name in r.message and r.message[name].shape == accepted[0].message[name].shape]
            if not rows:
                continue
            stacked = torch.stack([r.message[name] for r in rows])
            forged = self.byzantine.apply([r.client for r in rows], stacked, round_idx)
            if forged is not stacked:
                for i, r in enumerate(rows):
                    r.message[name] = forged[i]

    def _aggregate(self, cohort: Cohort, replies: list[Reply], round_idx: int) -> None:
        layout = cohort.layout
        runtime = cohort.runtime
        device = cohort.global_vec.device
        stacked: dict[str, torch.Tensor] = {}
        for name in runtime.sizes:
            rows = torch.stack([r.message[name].to(device) for r in replies])
            if runtime.model_shaped(name) and not layout.all_aggregated():
                zeros = torch.zeros(len(replies), layout.numel, dtype=cohort.global_vec.dtype, device=device)
                rows = layout.from_wire(rows, zeros)
            stacked[name] = rows
        w = torch.tensor([self.algorithm.client_weight(r.num_samples) for r in replies], dtype=torch.float64)
        w = (w / w.sum()).to(cohort.global_vec.dtype).to(device)
        info = AggregationInfo(
            round_idx=round_idx, clients=[r.client for r in replies], num_clients=self.num_clients,
            staleness=torch.tensor([float(r.staleness) for r in replies], dtype=torch.float64),
            num_samples=torch.tensor([float(r.num_samples) for r in replies], dtype=torch.float64),
            cohort=cohort.name,
        )
        new = self.algorithm.aggregate(cohort.global_vec, cohort.server_state, stacked, w, info).detach()
        if not layout.all_aggregated():
            new = torch.where(layout.mask("aggregate", torch.bool, device), new, cohort.global_vec)
        cohort.global_vec = new
