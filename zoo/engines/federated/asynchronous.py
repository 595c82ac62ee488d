"""Asynchronous and anarchic participation on an event clock, with staleness-aware aggregation.

Time is simulated: an :class:`EventClock` says how long a client's job (download, ``steps`` local steps, upload)
takes; a :class:`Participation` policy says when a client starts its next job after one ends (at once, after a
rest, or when it chooses: anarchic FL); the algorithm's ``recipe`` hook may give each job its own number of steps.
A job trains as soon as it starts, from the global model of that moment (version ``v``); its update *arrives*
``duration`` later. The server aggregates every ``buffer_size`` arrivals (1: FedAsync, K: FedBuff) with
:class:`~zoo.engines.federated.algorithm.AggregationInfo.staleness` = versions published since the job started,
which ``Algorithm(staleness=polynomial_staleness(a))`` turns into smaller weights. Ties in time are broken by the
order in which events were scheduled, so runs are deterministic.

In an asynchronous run a local update's ``round_idx`` (which seeds its batches) is the index of the job.
"""
from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from zoo.errors import FederatedError
from zoo.engines.federated.algorithm import Algorithm
from zoo.engines.federated.client import FederatedData, Reply
from zoo.engines.federated.codec import Codec
from zoo.engines.federated.faults import NO_DROPOUT, Dropout, UpdatePolicy
from zoo.engines.federated.local import LocalRecipe, LossFn
from zoo.engines.federated.records import RoundRecord
from zoo.engines.federated.sampling import CustomSampler
from zoo.engines.federated.seeding import numpy_rng
from zoo.engines.federated.simulator import EvalFn, FederatedSimulator
from zoo.engines.federated.store import ClientStore


@dataclass(frozen=True)
class EventClock:
    """Seconds a client's job takes: ``latency + 8 bytes_down / down_bps + steps * compute + 8 bytes_up / up_bps``.

    ``jitter`` > 0 multiplies the compute time by a log-normal factor ``exp(jitter * z)`` drawn from
    ``(seed, "clock", client, job)``.
    """

    compute_s: torch.Tensor
    latency_s: torch.Tensor | float = 0.0
    up_bps: float = float("inf")
    down_bps: float = float("inf")
    jitter: float = 0.0

    def duration(self, client: int, steps: int, bytes_down: int, bytes_up: int, job: int, seed: int) -> float:
        """The job's length in seconds."""
        compute = float(torch.as_tensor(self.compute_s).reshape(-1)[client]) * steps
        if self.jitter > 0:
            compute *= float(np.exp(self.jitter * numpy_rng(seed, "clock", client, job).standard_normal()))
        lat = self.latency_s if isinstance(self.latency_s, float) else float(torch.as_tensor(self.latency_s)[client])
        return lat + 8 * bytes_down / self.down_bps + compute + 8 * bytes_up / self.up_bps


class Participation(Protocol):
    """When clients start jobs."""

    def first_start(self, client: int, seed: int) -> float | None:
        """When the client starts its first job (``None``: never)."""
        ...

    def next_start(self, client: int, now: float, job: int, seed: int) -> float | None:
        """When the client starts its next job after one ended at ``now`` (``None``: it stops)."""
        ...


@dataclass(frozen=True)
class Always:
    """Every client starts at time 0 and starts again as soon as a job ends."""

    def first_start(self, client: int, seed: int) -> float | None:
        """At once."""
        return 0.0

    def next_start(self, client: int, now: float, job: int, seed: int) -> float | None:
        """At once."""
        return now


@dataclass(frozen=True)
class Anarchic:
    """Clients decide when to work (anarchic FL): a seeded exponential rest of mean ``mean_rest_s[client]`` before
    every job, and the first start after one such rest (so clients join late)."""

    mean_rest_s: Sequence[float] | float

    def _rest(self, client: int, job: int, seed: int) -> float:
        mean = self.mean_rest_s if isinstance(self.mean_rest_s, (int, float)) else self.mean_rest_s[client]
        return float(numpy_rng(seed, "rest", client, job).exponential(float(mean))) if mean > 0 else 0.0

    def first_start(self, client: int, seed: int) -> float | None:
        """After a first rest."""
        return self._rest(client, -1, seed)

    def next_start(self, client: int, now: float, job: int, seed: int) -> float | None:
        """After a rest."""
        return now + self._rest(client, job, seed)


@dataclass(frozen=True)
class Scheduled:
    """Explicit start times: ``fn(client, now, job) -> time | None`` (``now`` is -inf for the first start)."""

    fn: Callable[[int, float, int], float | None]

    def first_start(self, client: int, seed: int) -> float | None:
        """``fn(client, -inf, -1)``."""
        return self.fn(client, float("-inf"), -1)

    def next_start(self, client: int, now: float, job: int, seed: int) -> float | None:
        """``fn(client, now, job)``."""
        return self.fn(client, now, job)


@dataclass(order=True)
class _Event:
    time: float
    seq: int
    kind: str
    client: int
    job: int = 0
    start_version: int = 0


class AsyncFederatedSimulator(FederatedSimulator):
    """Asynchronous server-based FL on an event clock (see module docstring).

    Takes the :class:`~zoo.engines.federated.simulator.FederatedSimulator` arguments (model, loss, data,
    recipe, algorithm, codecs, policy, roles, store, device, evaluation) plus:

    Args:
        clock: job durations.
        participation: when clients start jobs (default :class:`Always`).
        buffer_size: arrivals per aggregation (1: FedAsync, K > 1: FedBuff).
        max_staleness: updates staler than this are dropped (``None``: never).

    Each :meth:`round` runs events until one aggregation happened; its record holds the clients aggregated, their
    ``staleness`` and ``steps``, and ``sim_time_s`` (time since the previous aggregation).
    """

    def __init__(self, model: nn.Module | Mapping[str, nn.Module], loss_fn: LossFn | Mapping[str, LossFn],
                 data: FederatedData, *, recipe: LocalRecipe, clock: EventClock,
                 participation: Participation | None = None, buffer_size: int = 1,
                 max_staleness: int | None = None, algorithm: Algorithm | None = None, seed: int = 0,
                 uplink: Codec | None = None, downlink: Codec | None = None, policy: UpdatePolicy | None = None,
                 dropout: Dropout = NO_DROPOUT, roles: Mapping[str, Any] | None = None,
                 eval_fn: EvalFn | None = None, store: ClientStore | None = None,
                 device: torch.device | str | None = None, **kw: Any) -> None:
        super().__init__(model, loss_fn, data, recipe=recipe, algorithm=algorithm, seed=seed,
                         sampler=CustomSampler(lambda r, n, s: list(range(n))), uplink=uplink, downlink=downlink,
                         policy=policy, dropout=dropout, roles=roles, eval_fn=eval_fn, store=store, device=device, **kw)
        if buffer_size < 1:
            raise FederatedError(f"buffer_size must be >= 1, got {buffer_size}")
        self.clock = clock
        self.participation = participation or Always()
        self.buffer_size = int(buffer_size)
        self.max_staleness = max_staleness
        self.now = 0.0
        self._last_aggregation = 0.0
        self._events: list[_Event] = []
        self._seq = 0
        self._jobs = 0
        self._buffer: list[tuple[Reply, int]] = []
        self._pending: dict[int, tuple[Reply, Any]] = {}
        for k in range(self.num_clients):
            t = self.participation.first_start(k, self.seed)
            if t is not None:
                self._push(t, "start", k)

    def save(self, path: Any) -> Any:
        """Not supported: the event queue (jobs in flight) is not part of a checkpoint yet."""
        raise FederatedError("checkpoints of asynchronous runs are not supported (jobs in flight are not saved)")

    def _push(self, time: float, kind: str, client: int, job: int = 0, start_version: int = 0) -> None:
        heapq.heappush(self._events, _Event(float(time), self._seq, kind, client, job, start_version))
        self._seq += 1

    def _start(self, ev: _Event, record: RoundRecord) -> None:
        k = ev.client
        job = self._jobs
        self._jobs += 1
        down = self.core.send(k, job)
        record.bytes_down += down.nbytes
        rt = self.cohorts[self.cohort_of(k)].runtime
        if self.dropout.vanished(job, k, self.seed):
            record.vanished.append(k)
            nxt = self.participation.next_start(k, ev.time, job, self.seed)
            if nxt is not None:
                self._push(max(nxt, ev.time), "start", k)
            return
        outcome = rt.run(k, job, rt.received_model(down.wire), rt.received_payload(down.payload),
                         self.store.get(k), self.data)
        reply = rt.encode_reply(outcome, job, self.uplink)
        problem = self.core.check(reply, job)
        if problem is not None:
            record.dropped[k] = problem
        else:
            self.store.put(k, outcome.state)
        duration = self.clock.duration(k, outcome.steps, down.nbytes, reply.nbytes, job, self.seed)
        self._pending[job] = (reply, problem)
        self._push(ev.time + duration, "arrive", k, job, self.core.version)

    def round(self, evaluate: bool = False) -> RoundRecord:
        """Process events until the next aggregation; returns its record."""
        record = RoundRecord(round=self.round_idx, clients=[])
        while True:
            if not self._events:
                raise FederatedError(f"no client will ever send an update again (round {self.round_idx}, "
                                     f"time {self.now:.3f} s): check the participation policy")
            ev = heapq.heappop(self._events)
            self.now = ev.time
            if ev.kind == "start":
                self._start(ev, record)
                continue
            reply, problem = self._pending.pop(ev.job)
            nxt = self.participation.next_start(ev.client, ev.time, ev.job, self.seed)
            if nxt is not None:
                self._push(max(nxt, ev.time), "start", ev.client)
            if problem is not None:
                continue
            reply.staleness = self.core.version - ev.start_version
            if self.max_staleness is not None and reply.staleness > self.max_staleness:
                record.dropped[ev.client] = f"staleness {reply.staleness} > {self.max_staleness}"
                continue
            self._buffer.append((reply, ev.start_version))
            if len(self._buffer) >= self.buffer_size:
                break
        replies = [r for r, _ in self._buffer]
        self._buffer = []
        dropped = dict(record.dropped)
        self.core.close(self.round_idx, replies, record, {"data": self.data, "store": self.store,
                                                          "set_client_indices": self.set_client_indices})
        record.dropped.update(dropped)
        record.staleness = {r.client: r.staleness for r in replies}
        record.sim_time_s = self.now - self._last_aggregation
        self._last_aggregation = self.now
        if evaluate:
            self._evaluate_into(record)
        self.history.rounds.append(record)
        self.round_idx += 1
        return record


__all__ = ["Always", "Anarchic", "AsyncFederatedSimulator", "EventClock", "Participation", "Scheduled"]
