"""In-process deterministic simulators: server-based FL (:class:`FederatedSimulator`) and decentralised gossip
(:class:`DecentralizedSimulator`).

Server-based rounds use the same server side (:class:`~zoo.engines.federated.server.ServerCore`) and client side
(:class:`~zoo.engines.federated.client.ClientRuntime`) as the Flower adapter; only the clients of a round are
materialised (from the :mod:`client store <zoo.engines.federated.store>`), one at a time (``execution=
"sequential"``) or in batches through ``torch.func`` (``"batched"``). Every random draw comes from
``(seed, round, client)``, so a run is reproducible bit for bit and independent of client order.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from zoo.errors import FederatedError
from zoo.engines.federated import store as st
from zoo.engines.federated.aggregators import Combiner
from zoo.engines.federated.algorithm import Algorithm
from zoo.engines.federated.attacks import Byzantine
from zoo.engines.federated.batched import BatchedTrainer
from zoo.engines.federated.client import ClientOutcome, ClientRuntime, FederatedData
from zoo.engines.federated.codec import Codec, Identity, encode
from zoo.engines.federated.faults import NO_DROPOUT, Dropout, UpdatePolicy, check_message, enforce
from zoo.engines.federated.flat import load_buffers, load_flat, unbind
from zoo.engines.federated.local import LocalRecipe, LossFn
from zoo.engines.federated.mixing import mix
from zoo.engines.federated.network import NetworkModel
from zoo.engines.federated.records import FLHistory, RoundRecord
from zoo.engines.federated.sampling import AllClients, ClientSampler
from zoo.engines.federated.server import Cohort, ServerCore, as_cohort_map
from zoo.engines.federated.store import ClientStore, MemoryStore
from zoo.engines.federated.topology import MixingPlan, Topology

EvalFn = Callable[[nn.Module], Mapping[str, float]]
ClientEvalFn = Callable[[nn.Module, int], Mapping[str, float]]
Execution = Literal["sequential", "batched", "auto"]


@dataclass(frozen=True)
class StarNetwork:
    """Clients around a server: per-client compute (s/step), latency to the server (s), link capacities (bit/s).

    A round lasts as long as its slowest answering client: download, local steps, upload; the server's capacity
    ``server_bps`` is shared by the round's clients.
    """

    compute_s: torch.Tensor
    latency_s: torch.Tensor
    up_bps: torch.Tensor
    down_bps: torch.Tensor
    server_bps: float

    def client_time(self, client: int, steps: int, bytes_down: int, bytes_up: int, num_active: int) -> float:
        """Seconds for one client's round trip."""
        share = self.server_bps / max(1, num_active)
        down = 8 * bytes_down / min(float(self.down_bps[client]), share)
        up = 8 * bytes_up / min(float(self.up_bps[client]), share)
        return 2 * float(self.latency_s[client]) + down + steps * float(self.compute_s[client]) + up


def percentile10(values: Sequence[float]) -> float:
    """The 10th percentile (linear interpolation, numpy's default) of per-client values."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), 10))


def summarise_clients(per_client: Mapping[int, Mapping[str, float]]) -> dict[str, float]:
    """``{"<kind>/<m>_mean": ..., "<kind>/<m>_p10": ...}`` over the clients' ``{"<kind>/<m>": v}``."""
    names = sorted({m for v in per_client.values() for m in v})
    out: dict[str, float] = {}
    for m in names:
        vals = [float(v[m]) for v in per_client.values() if m in v]
        out[f"{m}_mean"] = float(np.mean(vals))
        out[f"{m}_p10"] = percentile10(vals)
    return out


class FederatedSimulator:
    """Server-based FL: sample clients, send the model (+ payload), train locally, check, aggregate.

    Args:
        model: template module (its parameters are the initial global model), or ``{cohort: module}`` for
            clients of different architectures (then ``cohort_of`` says which client has which).
        loss_fn: ``loss_fn(model, batch)`` / ``loss_fn(model, batch, ctx)`` (or one per cohort).
        data: the clients' data.
        recipe: local training recipe.
        algorithm: the method (default FedAvg).
        sampler: who joins each round (default all).
        seed: seeds batches, sampling, dropout and attacks.
        uplink, downlink: codecs (their byte counts feed the ledger, their reconstructions are what arrives; they
            see the layer layout and keep per-client state).
        policy: what to do with NaN/Inf or wrongly shaped updates.
        dropout: clients that vanish mid-round.
        network: optional :class:`StarNetwork` for simulated time; ``deadline_s``: with a network, a round that
            lost clients lasts at least this long.
        roles: parameter roles (``{"head": "local"}``; or one mapping per cohort).
        eval_fn: ``eval_fn(model) -> metrics`` of the global model.
        client_eval_fn: ``client_eval_fn(model, client) -> metrics`` on a client's own test data, run with the
            global and the personalised model of each of ``eval_clients`` (default all).
        cohort_of: ``[cohort name per client]`` or ``fn(client) -> name``.
        store: where registered clients' state lives (default :class:`MemoryStore`; :class:`DiskStore` for many).
        device: where the models and every materialised client tensor live.
        execution: ``"sequential"``, ``"batched"`` (``torch.func``; raises when impossible) or ``"auto"``.
        max_batch: clients trained together at most (batched execution).
        byzantine: faulty clients and their attack on the uplink.
    """

    def __init__(
        self, model: nn.Module | Mapping[str, nn.Module], loss_fn: LossFn | Mapping[str, LossFn],
        data: FederatedData, *, recipe: LocalRecipe, algorithm: Algorithm | None = None,
        sampler: ClientSampler | None = None, seed: int = 0, uplink: Codec | None = None,
        downlink: Codec | None = None, policy: UpdatePolicy | None = None, dropout: Dropout = NO_DROPOUT,
        network: StarNetwork | None = None, deadline_s: float | None = None,
        roles: Mapping[str, Any] | None = None, eval_fn: EvalFn | Mapping[str, EvalFn] | None = None,
        client_eval_fn: ClientEvalFn | None = None, eval_clients: Sequence[int] | None = None,
        collate: Callable[[list[Any]], Any] | None = None,
        cohort_of: Sequence[str] | Callable[[int], str] | None = None, store: ClientStore | None = None,
        device: torch.device | str | None = None, execution: Execution = "sequential", max_batch: int = 1024,
        byzantine: Byzantine | None = None,
    ) -> None:
        models = dict(model) if isinstance(model, Mapping) else {"default": model}
        names = list(models)
        self.algorithm = algorithm or Algorithm()
        self.data = data
        self.seed = int(seed)
        self.num_clients = data.num_clients
        self.recipe = recipe
        self._cohort_of = _cohort_lookup(cohort_of, names, self.num_clients)
        losses = as_cohort_map(dict(loss_fn) if isinstance(loss_fn, Mapping) else loss_fn, names)
        role_map = _roles_per_cohort(roles, names)
        self.device = torch.device(device) if device is not None else next(models[names[0]].parameters()).device
        cohorts = {}
        for name in names:
            rt = ClientRuntime(models[name], losses[name], recipe, self.algorithm, role_map[name], self.seed,
                               collate, self.device, name)
            gv = rt.init_vec.clone()
            cohorts[name] = Cohort(name, rt, gv, self.algorithm.init_server_state(gv))
        self.store: ClientStore = store if store is not None else MemoryStore()
        self.uplink = uplink or Identity()
        self.dropout = dropout
        self.network = network
        self.deadline_s = deadline_s
        self.core = ServerCore(cohorts, self._cohort_of, self.algorithm, self.num_clients,
                               sampler=sampler or AllClients(), seed=self.seed, downlink=downlink, policy=policy,
                               byzantine=byzantine)
        self.eval_fn = eval_fn
        self.client_eval_fn = client_eval_fn
        self.eval_clients = list(eval_clients) if eval_clients is not None else None
        if execution not in ("sequential", "batched", "auto"):
            raise FederatedError(f"execution must be 'sequential', 'batched' or 'auto', got {execution!r}")
        self.execution = execution
        self.max_batch = int(max_batch)
        self._batched = {name: BatchedTrainer(c.runtime) for name, c in cohorts.items()}
        self.round_idx = 0
        self.history = FLHistory()
        self._changed_indices: set[int] = set()

    # ----------------------------------------------------------------------------------------------- views
    @property
    def cohorts(self) -> dict[str, Cohort]:
        """The architecture groups (one, ``"default"``, unless clients differ)."""
        return self.core.cohorts

    def _default(self) -> Cohort:
        return next(iter(self.core.cohorts.values()))

    @property
    def global_vec(self) -> torch.Tensor:
        """The (first cohort's) global model as a flat vector."""
        return self._default().global_vec

    @global_vec.setter
    def global_vec(self, value: torch.Tensor) -> None:
        self._default().global_vec = value

    @property
    def server_state(self) -> dict[str, torch.Tensor]:
        """The (first cohort's) server state."""
        return self._default().server_state

    @property
    def layout(self):  # -> ParamLayout
        """The (first cohort's) parameter layout."""
        return self._default().layout

    @property
    def sampler(self) -> ClientSampler:
        """Who joins each round."""
        return self.core.sampler

    @property
    def model(self) -> nn.Module:
        """The (first cohort's) template module."""
        return self._default().runtime.model

    def cohort_of(self, client: int) -> str:
        """The cohort of a client."""
        return self._cohort_of(client)

    def global_model(self, cohort: str | None = None) -> nn.Module:
        """The template module loaded with the current global model."""
        c = self.cohorts[cohort] if cohort else self._default()
        return c.model_with(c.global_vec)

    def model_with(self, vector: torch.Tensor, cohort: str | None = None) -> nn.Module:
        """The template module holding ``vector``."""
        c = self.cohorts[cohort] if cohort else self._default()
        return c.model_with(vector)

    def raw_client_state(self, client: int) -> dict[str, torch.Tensor]:
        """The client's stored flat state (fresh when it never took part)."""
        rt = self.cohorts[self._cohort_of(client)].runtime
        return self.store.get(client) or rt.fresh_state(client)

    def client_state(self, client: int) -> dict[str, torch.Tensor]:
        """The algorithm's state of ``client`` (SCAFFOLD's ``c_i``...)."""
        return st.split(self.raw_client_state(client), "alg")

    def optimizer_state(self, client: int) -> dict[str, torch.Tensor]:
        """The client's persisted optimiser state (empty when none)."""
        return st.split(self.raw_client_state(client), "opt")

    def client_model(self, client: int) -> torch.Tensor:
        """The client's personal model vector: the global model with its ``local`` entries."""
        c = self.cohorts[self._cohort_of(client)]
        return c.runtime.own_model(c.global_vec, {k: v.to(self.device) for k, v in self.raw_client_state(client).items()})

    def set_client_indices(self, client: int, indices: np.ndarray) -> None:
        """Change the samples ``client`` holds from the next round on (client data that changes over time)."""
        self.data = self.data.with_indices(client, indices)
        self._changed_indices.add(int(client))

    # ----------------------------------------------------------------------------------------------- run
    def run(self, rounds: int, eval_every: int = 0, callback: Callable[[RoundRecord], None] | None = None) -> FLHistory:
        """Run ``rounds`` rounds; evaluate every ``eval_every`` rounds (and after the last) when evaluation is set."""
        if rounds < 0:
            raise FederatedError(f"rounds must be >= 0, got {rounds}")
        evaluating = self.eval_fn is not None or self.client_eval_fn is not None
        for k in range(rounds):
            last = k == rounds - 1
            record = self.round(evaluate=evaluating and (last or (eval_every > 0 and (k + 1) % eval_every == 0)))
            if callback is not None:
                callback(record)
        return self.history

    def _use_batched(self, cohort: str) -> bool:
        if self.execution == "sequential":
            return False
        trainer = self._batched[cohort]
        reason = trainer.unsupported(self.algorithm.local_rule())
        if reason is None:
            return True
        if self.execution == "batched":
            raise FederatedError(f"execution='batched' is not possible for cohort {cohort!r}: {reason}")
        return False

    def round(self, evaluate: bool = False) -> RoundRecord:
        """One round; returns (and appends to ``history``) its record."""
        r = self.round_idx
        core = self.core
        selected = core.select(r)
        record = RoundRecord(round=r, clients=[])
        jobs: dict[str, list[tuple[int, Any]]] = {name: [] for name in self.cohorts}
        down_bytes: dict[int, int] = {}
        for k in selected:
            down = core.send(k, r)
            record.bytes_down += down.nbytes
            down_bytes[k] = down.nbytes
            if self.dropout.vanished(r, k, self.seed):
                record.vanished.append(k)
                continue
            jobs[self._cohort_of(k)].append((k, down))
        replies = []
        times: list[float] = []
        for name, cohort_jobs in jobs.items():
            rt = self.cohorts[name].runtime
            for outcome in self._train(name, rt, cohort_jobs, r):
                reply = rt.encode_reply(outcome, r, self.uplink)
                problem = core.check(reply, r)
                if problem is not None:
                    record.dropped[outcome.client] = problem
                    continue
                self.store.put(outcome.client, outcome.state)
                replies.append(reply)
                if self.network is not None:
                    times.append(self.network.client_time(outcome.client, outcome.steps, down_bytes[outcome.client],
                                                          reply.nbytes, len(selected)))
        dropped = dict(record.dropped)
        core.close(r, replies, record, {"data": self.data, "set_client_indices": self.set_client_indices,
                                        "store": self.store})
        record.dropped.update(dropped)
        for c in self.cohorts.values():
            unbind(c.runtime.model)
        if self.network is not None:
            t = max(times, default=0.0)
            if (record.vanished or record.dropped) and self.deadline_s is not None:
                t = max(t, self.deadline_s)
            record.sim_time_s = t
        if evaluate:
            self._evaluate_into(record)
        self.history.rounds.append(record)
        self.round_idx += 1
        return record

    def _train(self, cohort: str, rt: ClientRuntime, jobs: list[tuple[int, Any]], r: int) -> Any:
        """Yield the outcomes of a cohort's clients (materialised one by one, or one batch at a time)."""
        if not jobs:
            return
        if self._use_batched(cohort):
            for s in range(0, len(jobs), self.max_batch):
                chunk = jobs[s : s + self.max_batch]
                ctxs = [rt.prepare(k, r, rt.received_model(d.wire), rt.received_payload(d.payload),
                                   self.store.get(k), self.data) for k, d in chunk]
                yield from self._batched[cohort].run(ctxs, self.data, self.seed)
            return
        for k, d in jobs:
            yield rt.run(k, r, rt.received_model(d.wire), rt.received_payload(d.payload), self.store.get(k),
                         self.data)

    # ----------------------------------------------------------------------------------------------- eval
    def _evaluate_into(self, record: RoundRecord) -> None:
        if self.eval_fn is not None:
            fns = self.eval_fn if isinstance(self.eval_fn, Mapping) else {next(iter(self.cohorts)): self.eval_fn}
            for name, fn in fns.items():
                model = self.global_model(name)
                model.eval()
                with torch.no_grad():
                    metrics = {k: float(v) for k, v in fn(model).items()}
                prefix = "" if len(fns) == 1 else f"{name}/"
                record.metrics.update({prefix + k: v for k, v in metrics.items()})
        if self.client_eval_fn is not None:
            per = self.evaluate_clients(self.eval_clients)
            record.client_metrics = per
            record.metrics.update(summarise_clients(per))

    def evaluate_clients(self, clients: Sequence[int] | None = None) -> dict[int, dict[str, float]]:
        """Each client's metrics with the global model (``global/<m>``) and its personal model (``personal/<m>``)."""
        if self.client_eval_fn is None:
            raise FederatedError("evaluate_clients needs client_eval_fn")
        out: dict[int, dict[str, float]] = {}
        for k in (range(self.num_clients) if clients is None else clients):
            c = self.cohorts[self._cohort_of(k)]
            raw = {key: v.to(self.device) for key, v in self.raw_client_state(k).items()}
            own = c.runtime.own_model(c.global_vec, raw)
            personal = self.algorithm.personal_weights(c.global_vec, own, k, st.split(raw, "alg"))
            row: dict[str, float] = {}
            for kind, vec, buffers in (("global", c.global_vec, c.runtime.init_buffers),
                                       ("personal", personal, raw.get("buffers"))):
                model = c.model_with(vec)
                load_buffers(model, buffers)
                model.eval()
                with torch.no_grad():
                    row.update({f"{kind}/{m}": float(v) for m, v in self.client_eval_fn(model, k).items()})
            load_buffers(c.runtime.model, c.runtime.init_buffers)
            out[int(k)] = row
        return out

    # ----------------------------------------------------------------------------------------------- checkpoint
    def save(self, path: str | Path) -> Path:
        """Write everything needed to continue the run exactly (global models, server and client states, optimiser
        states, codec residuals, changed client data, history) to a new folder ``path``."""
        from zoo.engines.federated.checkpoint import save_simulator

        return save_simulator(self, path)

    def load(self, path: str | Path) -> None:
        """Restore a checkpoint written by :meth:`save` into this (identically configured) simulator."""
        from zoo.engines.federated.checkpoint import load_simulator

        load_simulator(self, path)


def _cohort_lookup(cohort_of: Sequence[str] | Callable[[int], str] | None, names: list[str],
                   n: int) -> Callable[[int], str]:
    if cohort_of is None:
        if len(names) != 1:
            raise FederatedError(f"{len(names)} cohorts ({names}) need cohort_of (one name per client)")
        only = names[0]
        return lambda k: only
    if callable(cohort_of):
        fn = cohort_of
    else:
        table = list(cohort_of)
        if len(table) != n:
            raise FederatedError(f"cohort_of names {len(table)} clients, the data has {n}")
        fn = table.__getitem__
    bad = sorted({fn(k) for k in range(n)} - set(names))
    if bad:
        raise FederatedError(f"cohort_of uses unknown cohort(s) {bad}; the models are {names}")
    return fn


def _roles_per_cohort(roles: Mapping[str, Any] | None, names: list[str]) -> dict[str, dict[str, str] | None]:
    if roles is None:
        return {n: None for n in names}
    if len(names) > 1 and all(isinstance(v, Mapping) for v in roles.values()) and set(roles) <= set(names):
        return {n: dict(roles[n]) if n in roles else None for n in names}
    return {n: dict(roles) for n in names}


class DecentralizedSimulator:
    """Decentralised FL (DPASGD): every node trains locally, then mixes with its neighbours per the topology.

    Models of the last ``history`` rounds are kept in a ``[(history + 1) N, P]`` bank, so a plan may use stale
    neighbour models (MultigraphFL's weak links and isolated nodes); one gossip step is one ``ops.mix`` product.

    Args:
        topology: gives the :class:`MixingPlan` of each round.
        recipe: DPASGD's ``u`` local steps between two mixings is ``recipe.steps``; optimiser state persists per
            node unless ``recipe.optimizer_state="reset"``.
        algorithm: local rule, per-node recipe and state hooks (``local_rule``, ``recipe``, ``init_client_state``).
        history: rounds of past models kept for stale links (0: fresh models only).
        gossip_steps: Q mixing steps after the local steps of a round (DFedSAM-MGS), fresh models only.
        node_combiner: a :class:`~zoo.engines.federated.aggregators.Combiner` each node applies to its own and its
            in-neighbours' models instead of the linear product (robust aggregation, MoNNA).
        byzantine: nodes whose sent models are forged (sign flip, Gaussian, ALIE).
        codec: what a node's model costs on a link (layer-aware, per-node state such as error feedback);
            lossy codecs need ``history=0``.
        network / clock: simulated time (``clock(plan) -> s`` overrides the network's cycle time).
        policy: what to do with a node whose local update is non-finite (``drop``: it keeps its previous model and
            sits out the round's mixing).
        device: where the bank and every node tensor live.

    Parameters with the ``local`` role stay each node's own (never mixed); floating buffers (BatchNorm
    statistics) are per node; :meth:`average_vector` / :meth:`average_buffers` give the federated average.
    Bytes: one encoded model per used fresh link (off-diagonal, positive weight, age 0, both ends active) per gossip
    step; a stale link reuses a model received earlier and costs nothing.
    """

    def __init__(
        self, model: nn.Module, loss_fn: LossFn, data: FederatedData, topology: Topology, *, recipe: LocalRecipe,
        algorithm: Algorithm | None = None, seed: int = 0, history: int = 0, codec: Codec | None = None,
        dropout: Dropout = NO_DROPOUT, network: NetworkModel | None = None, policy: UpdatePolicy | None = None,
        clock: Callable[[MixingPlan], float] | None = None, roles: Mapping[str, str] | None = None,
        eval_fn: EvalFn | None = None, collate: Callable[[list[Any]], Any] | None = None,
        gossip_steps: int = 1, node_combiner: Combiner | None = None, byzantine: Byzantine | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        self.algorithm = algorithm or Algorithm()
        self.data = data
        self.seed = int(seed)
        self.num_clients = data.num_clients
        self.runtime = ClientRuntime(model, loss_fn, recipe, self.algorithm, dict(roles) if roles else None,
                                     self.seed, collate, device, "default")
        self.device = self.runtime.device
        self.layout = self.runtime.layout
        if topology.num_nodes != self.num_clients:
            raise FederatedError(f"topology has {topology.num_nodes} nodes but there are {self.num_clients} clients")
        if history < 0:
            raise FederatedError(f"history must be >= 0, got {history}")
        if gossip_steps < 1:
            raise FederatedError(f"gossip_steps must be >= 1, got {gossip_steps}")
        self.topology = topology
        self.codec = codec or Identity()
        self.depth = history
        self.gossip_steps = int(gossip_steps)
        self.node_combiner = node_combiner
        self.byzantine = byzantine
        n, p = self.num_clients, self.layout.numel
        self.bank = self.runtime.init_vec.reshape(1, 1, p).repeat(history + 1, n, 1).contiguous()
        self.head = 0
        self.network = network
        self.clock = clock
        self.policy = policy or UpdatePolicy()
        self.dropout = dropout
        self.eval_fn = eval_fn
        self.store = MemoryStore()
        self.sizes = {"delta": p}
        self._agg = self.layout.mask("aggregate", torch.bool, self.device)
        self._all_agg = self.layout.all_aggregated()
        self.round_idx = 0
        self.history = FLHistory()

    @property
    def model(self) -> nn.Module:
        """The template module."""
        return self.runtime.model

    @property
    def live(self) -> torch.Tensor:
        """``[N, P]`` current node models."""
        return self.bank[self.head]

    @property
    def clients(self) -> torch.Tensor:
        """Alias of :attr:`live`."""
        return self.live

    def node_state(self, node: int) -> dict[str, torch.Tensor]:
        """A node's stored flat state (algorithm ``alg.*``, optimiser ``opt.*``, ``buffers``, codec ``gossip.*``)."""
        return self.store.get(node) or self.runtime.fresh_state(node)

    def model_with(self, vector: torch.Tensor) -> nn.Module:
        """The template module holding ``vector`` (its own storage)."""
        unbind(self.model)
        load_flat(self.model, vector)
        return self.model

    def average_vector(self, node_weights: torch.Tensor | Sequence[float] | None = None) -> torch.Tensor:
        """``sum_i lambda_i w_i / sum lambda_i`` (FADNet/DFL evaluation; ``lambda`` defaults to the honest nodes)."""
        lam = self._lambdas(node_weights)
        return mix((lam / lam.sum()).reshape(1, -1), self.live)[0]

    def average_buffers(self, node_weights: torch.Tensor | Sequence[float] | None = None) -> torch.Tensor | None:
        """The same average of the nodes' floating buffers (``None`` when the model has none)."""
        if self.runtime.init_buffers is None:
            return None
        lam = self._lambdas(node_weights)
        rows = torch.stack([self.node_state(k)["buffers"].to(self.device) for k in range(self.num_clients)])
        return mix((lam / lam.sum()).reshape(1, -1), rows)[0]

    def _lambdas(self, node_weights: torch.Tensor | Sequence[float] | None) -> torch.Tensor:
        n = self.num_clients
        if node_weights is None:
            lam = torch.ones(n, device=self.device)
            if self.byzantine is not None:
                for b in self.byzantine.clients:
                    lam[b] = 0.0
        else:
            lam = torch.as_tensor(node_weights, dtype=torch.float32, device=self.device)
        if lam.shape != (n,) or (lam < 0).any() or lam.sum() <= 0:
            raise FederatedError(f"node_weights must be {n} non-negative numbers with a positive sum")
        return lam

    def averaged_model(self, node_weights: torch.Tensor | Sequence[float] | None = None) -> nn.Module:
        """The template module holding the federated average (parameters and buffers)."""
        model = self.model_with(self.average_vector(node_weights))
        load_buffers(model, self.average_buffers(node_weights))
        return model

    def run(self, rounds: int, eval_every: int = 0, callback: Callable[[RoundRecord], None] | None = None) -> FLHistory:
        """Run ``rounds`` rounds; evaluate every ``eval_every`` rounds (and after the last) when ``eval_fn`` is set."""
        if rounds < 0:
            raise FederatedError(f"rounds must be >= 0, got {rounds}")
        for k in range(rounds):
            last = k == rounds - 1
            record = self.round(evaluate=bool(self.eval_fn) and (last or (eval_every > 0 and (k + 1) % eval_every == 0)))
            if callback is not None:
                callback(record)
        return self.history

    def local_update(self, node: int, round_idx: int) -> ClientOutcome:
        """Node ``node``'s local steps from its live model (not written back)."""
        state = {k: v for k, v in self.node_state(node).items()}
        return self.runtime.run(node, round_idx, self.live[node].clone(), {}, state, self.data)

    def round(self, evaluate: bool = False) -> RoundRecord:
        """Local steps on every active node, then ``gossip_steps`` mixing steps."""
        r = self.round_idx
        plan = self.topology.plan(r)
        record = RoundRecord(round=r, clients=[])
        n = self.num_clients
        active = torch.ones(n, dtype=torch.bool, device=self.device)
        losses = []
        live = self.live
        for k in range(n):
            if self.dropout.vanished(r, k, self.seed):
                record.vanished.append(k)
                active[k] = False
                continue
            out = self.local_update(k, r)
            problem = check_message({"delta": out.weights - live[k]}, self.sizes)
            if not enforce(self.policy, problem, k, r):
                record.dropped[k] = str(problem)
                active[k] = False
                continue
            live[k].copy_(out.weights)
            self.store.put(k, out.state)
            losses.append(out.loss)
            record.clients.append(k)
            record.steps[k] = out.steps
        unbind(self.model)
        sent_bytes = self._mix_round(plan, active, r, record)
        record.bytes_up = sent_bytes
        if self.clock is not None:
            record.sim_time_s = float(self.clock(plan))
        elif self.network is not None:
            per_model = self.codec.encode(self.layout.to_wire(self.live[0])).nbytes
            record.sim_time_s = self.network.cycle_time(plan.strong.cpu(), model_bits=8 * per_model)
        record.loss = float(np.mean(losses)) if losses else float("nan")
        if evaluate and self.eval_fn is not None:
            model = self.averaged_model()
            model.eval()
            with torch.no_grad():
                record.metrics = {k: float(v) for k, v in self.eval_fn(model).items()}
            unbind(self.model)
        self.history.rounds.append(record)
        self.round_idx += 1
        return record

    # ----------------------------------------------------------------------------------------------- mixing
    def _fresh_links(self, plan: MixingPlan, active: torch.Tensor) -> torch.Tensor:
        fresh = plan.strong.to(self.device).clone().fill_diagonal_(False)
        fresh &= (plan.weights.to(self.device) > 0) & (plan.age.to(self.device) == 0)
        return fresh & active[None, :] & active[:, None]

    def sent_models(self, round_idx: int, step: int, active: torch.Tensor) -> tuple[torch.Tensor, list[int]]:
        """``[N, P]`` what each node sends this gossip step (codec, then Byzantine forging) and its byte count."""
        live = self.live
        lossy = not isinstance(self.codec, Identity)
        nbytes = []
        if lossy or self.byzantine is not None:
            sent = live.clone()
        else:
            sent = live
        for j in range(self.num_clients):
            wire = self.layout.to_wire(live[j])
            if lossy:
                state = self.node_state(j)
                codec_state = st.split(state, "gossip")
                enc = encode(self.codec, wire, self.layout.segments("aggregate"), codec_state, j, round_idx, "model")
                for key in [key for key in state if key.startswith("gossip.")]:
                    del state[key]
                state.update(st.join("gossip", codec_state))
                self.store.put(j, state)
                sent[j] = self.layout.from_wire(enc.decoded, live[j])
                nbytes.append(enc.nbytes)
            else:
                nbytes.append(self.codec.encode(wire).nbytes)
        if self.byzantine is not None:
            forged = self.byzantine.apply(list(range(self.num_clients)), self.layout.to_wire(sent), round_idx, step)
            sent = self.layout.from_wire(forged, sent)
        return sent, nbytes

    def _mix_round(self, plan: MixingPlan, active: torch.Tensor, r: int, record: RoundRecord) -> int:
        lossy = not isinstance(self.codec, Identity)
        fresh = self._fresh_links(plan, active)
        special = lossy or self.byzantine is not None or self.node_combiner is not None or self.gossip_steps > 1
        if special and plan.max_age > 0:
            raise FederatedError("codecs, Byzantine nodes, node combiners and several gossip steps need fresh models "
                                 "only (history=0 / a plan without stale links)")
        if plan.max_age > self.depth:
            raise FederatedError(
                f"the plan uses models {plan.max_age} rounds old but the simulator keeps history={self.depth}")
        w = self._weights(plan, active)
        total = 0
        if not special:
            total = int(fresh.sum()) * self.codec.encode(self.layout.to_wire(self.live[0])).nbytes
            self._push(self.gossip(plan, active))
            return total
        for q in range(self.gossip_steps):
            sent, nbytes = self.sent_models(r, q, active)
            total += int(sum(int(fresh[:, j].sum()) * nbytes[j] for j in range(self.num_clients)))
            mixed = self.combine(w, sent)
            self._write_live(mixed)
        self._push(self.live.clone())
        return total

    def _weights(self, plan: MixingPlan, active: torch.Tensor | None) -> torch.Tensor:
        w = plan.weights.to(self.device)
        if active is not None and not bool(active.all()):
            w = torch.where(active[:, None], w, torch.eye(self.num_clients, dtype=w.dtype, device=self.device))
        return w

    def gossip(self, plan: MixingPlan, active: torch.Tensor | None = None) -> torch.Tensor:
        """One linear mixing under ``plan`` of the live models (and banked ones over stale links); ``[N, P]``, not
        written back. Inactive nodes keep their model."""
        if plan.max_age > self.depth:
            raise FederatedError(
                f"the plan uses models {plan.max_age} rounds old but the simulator keeps history={self.depth}")
        w = self._weights(plan, active)
        if plan.max_age == 0:
            return mix(w, self.live)
        slots = [(self.head + a) % (self.depth + 1) for a in range(self.depth + 1)]
        stale_plan = MixingPlan(w.cpu(), plan.age.cpu(), plan.strong.cpu())
        return mix(stale_plan.expanded(self.depth, slots).to(self.device), self.bank.reshape(-1, self.bank.shape[-1]))

    def combine(self, w: torch.Tensor, sent: torch.Tensor) -> torch.Tensor:
        """One gossip step: node ``i`` combines its own live model and its in-neighbours' sent models."""
        live = self.live
        if self.node_combiner is None:
            diag = torch.diag(torch.diagonal(w))
            return mix(torch.cat([diag, w - diag], 1), torch.cat([live, sent], 0))
        out = live.clone()
        for i in range(self.num_clients):
            nbrs = [j for j in range(self.num_clients) if j != i and float(w[i, j]) > 0]
            rows = torch.stack([live[i]] + [sent[j] for j in nbrs])
            weights = torch.stack([w[i, i]] + [w[i, j] for j in nbrs]).to(rows.dtype)
            out[i] = self.node_combiner.combine(rows, weights)
        return out

    def _write_live(self, mixed: torch.Tensor) -> None:
        live = self.live
        if self._all_agg:
            live.copy_(mixed)
        else:
            live.copy_(torch.where(self._agg, mixed, live))

    def _push(self, mixed: torch.Tensor) -> None:
        """Make ``mixed`` (aggregated entries; local entries stay each node's) the live models of the next round."""
        live = self.live
        if not self._all_agg:
            mixed = torch.where(self._agg, mixed, live)
        if self.depth == 0:
            live.copy_(mixed)
            return
        self.head = (self.head - 1) % (self.depth + 1)
        self.bank[self.head].copy_(mixed)

    # ----------------------------------------------------------------------------------------------- checkpoint
    def save(self, path: str | Path) -> Path:
        """Write the node models (with the stale bank), node states and history to a new folder ``path``."""
        from zoo.engines.federated.checkpoint import save_decentralized

        return save_decentralized(self, path)

    def load(self, path: str | Path) -> None:
        """Restore a checkpoint written by :meth:`save`."""
        from zoo.engines.federated.checkpoint import load_decentralized

        load_decentralized(self, path)


__all__ = ["DecentralizedSimulator", "FederatedSimulator", "StarNetwork", "percentile10", "summarise_clients"]
