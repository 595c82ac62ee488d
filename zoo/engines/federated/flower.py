"""Flower adapter (current Message API): the engine's server and client sides as a ``ServerApp`` / ``ClientApp``.

The same :class:`FlowerTask` (model factory, loss, recipe, algorithm, data, seed, sampler, codecs, faults) drives
the in-process :class:`~zoo.engines.federated.simulator.FederatedSimulator` and a Flower federation, and both give
the same weights: the ServerApp runs :class:`~zoo.engines.federated.server.ServerCore` (sampler, per-client
downlink and payload, downlink codec, fault policy, Byzantine forging, aggregation in client-id order, server step)
and the ClientApp runs :class:`~zoo.engines.federated.client.ClientRuntime` (materialise, train, encode with the
uplink codec). Flower's ClientApps are stateless: a client's persistent state (algorithm state, optimiser state,
local parameters, codec residuals) lives in ``context.state`` between messages.

Protocol (message types): ``query`` asks each SuperNode which client (``partition-id``) it is; ``train`` carries
``{"model": ArrayRecord(wire model + payload), "config": ConfigRecord(task, round, cid)}`` to the *selected*
clients only; the reply carries ``{"message": ArrayRecord(decoded uplink messages), "metrics": ConfigRecord(cid,
num_samples, loss, steps, nbytes, problem)}`` or an error (the client vanished: ``Dropout``). A final ``query``
with ``report=1`` collects each client's personal state (local parameters) for checks. Byte counts are the
codecs' (what the encoded messages would cost); the arrays Flower moves are the decoded float vectors.

Run it as a Flower simulation (:func:`run_flower_simulation`: ``flwr.simulation.run_simulation`` over Ray) or
deployed (SuperLink + SuperNodes on several machines, ``flwr run``; see :mod:`.flower_app` and
docs/federated.md). Requires ``flwr[simulation]==1.41.0`` (the ``fl`` extra).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from zoo.errors import FederatedError
from zoo.engines.federated.algorithm import Algorithm
from zoo.engines.federated.attacks import Byzantine
from zoo.engines.federated.client import ClientRuntime, FederatedData, Reply
from zoo.engines.federated.codec import Codec
from zoo.engines.federated.faults import NO_DROPOUT, Dropout, UpdatePolicy
from zoo.engines.federated.local import LocalRecipe, LossFn
from zoo.engines.federated.records import FLHistory, RoundRecord
from zoo.engines.federated.sampling import AllClients, ClientSampler
from zoo.engines.federated.server import Cohort, ServerCore

try:
    import flwr  # noqa: F401
    from flwr.app import ArrayRecord, ConfigRecord, Context, Error, Message, RecordDict
    from flwr.clientapp import ClientApp
    from flwr.serverapp import Grid, ServerApp
except ImportError as exc:  # pragma: no cover - exercised only without flwr
    raise FederatedError(
        "the Flower adapter needs flwr: pip install -c constraints.txt 'flwr[simulation]==1.41.0' (extra 'fl')"
    ) from exc

_STATE = "zoo.state.{task}"
_VANISHED = 4201


@dataclass
class FlowerTask:
    """Everything both sides of a federation need (mirrors the :class:`FederatedSimulator` arguments)."""

    model_fn: Callable[[], nn.Module]
    loss_fn: LossFn
    recipe: LocalRecipe
    algorithm: Algorithm
    data: FederatedData
    seed: int = 0
    roles: Mapping[str, str] | None = None
    sampler: ClientSampler = field(default_factory=AllClients)
    policy: UpdatePolicy = field(default_factory=UpdatePolicy)
    uplink: Codec | None = None
    downlink: Codec | None = None
    dropout: Dropout = NO_DROPOUT
    byzantine: Byzantine | None = None

    def runtime(self) -> ClientRuntime:
        """A client runtime for this task (fresh model from ``model_fn``)."""
        return ClientRuntime(self.model_fn(), self.loss_fn, self.recipe, self.algorithm,
                             dict(self.roles) if self.roles else None, self.seed, device="cpu")

    def server(self) -> ServerCore:
        """The server side of this task."""
        rt = self.runtime()
        gv = rt.init_vec.clone()
        cohort = Cohort("default", rt, gv, self.algorithm.init_server_state(gv))
        return ServerCore({"default": cohort}, lambda k: "default", self.algorithm, self.data.num_clients,
                          sampler=self.sampler, seed=self.seed, downlink=self.downlink, policy=self.policy,
                          byzantine=self.byzantine)


@dataclass
class FlowerResult:
    """What a Flower run leaves: the global vector, the history, and each client's personal model."""

    global_vec: torch.Tensor | None = None
    history: FLHistory = field(default_factory=FLHistory)
    personal: dict[int, torch.Tensor] = field(default_factory=dict)
    round_wall_s: list[float] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------- encoding
def _to_array_record(tensors: Mapping[str, torch.Tensor]) -> ArrayRecord:
    return ArrayRecord(torch_state_dict={k: v.detach().cpu().contiguous() for k, v in tensors.items()})


def _from_array_record(record: ArrayRecord) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in record.to_torch_state_dict().items()}


# ---------------------------------------------------------------------------------------------------- client
class ClientHandlers:
    """The ClientApp's ``train`` and ``query`` handlers for a list of tasks (client runtimes cached per process;
    everything a client keeps between messages is in ``context.state``)."""

    def __init__(self, tasks: Sequence[FlowerTask]) -> None:
        self.tasks = list(tasks)
        self.runtimes: dict[int, ClientRuntime] = {}

    def runtime(self, t: int) -> ClientRuntime:
        """Task ``t``'s client runtime (built once per process)."""
        if t not in self.runtimes:
            self.runtimes[t] = self.tasks[t].runtime()
        return self.runtimes[t]

    def train(self, msg: Message, context: Context) -> Message:
        """One local update of the client named in the message; its state goes back to ``context.state``."""
        cfg = msg.content["config"]
        t, r, k = int(cfg["task"]), int(cfg["round"]), int(cfg["cid"])
        pid = int(context.node_config.get("partition-id", k))
        if pid != k:
            raise FederatedError(f"message for client {k} reached the SuperNode of partition {pid}")
        task = self.tasks[t]
        rt = self.runtime(t)
        if task.dropout.vanished(r, k, task.seed):
            return Message(Error(code=_VANISHED, reason=f"client {k} vanished in round {r}"), reply_to=msg)
        arrays = _from_array_record(msg.content["model"])
        wire = arrays.pop("__model__")
        payload = {name[len("payload."):]: v for name, v in arrays.items() if name.startswith("payload.")}
        key = _STATE.format(task=t)
        state = _from_array_record(context.state[key]) if key in context.state else None
        outcome = rt.run(k, r, rt.received_model(wire), rt.received_payload(payload), state, task.data)
        reply = rt.encode_reply(outcome, r, task.uplink)
        problem = reply.problem or finite_problem(reply)
        if problem is None:
            context.state[key] = _to_array_record(outcome.state)
        metrics = {"cid": k, "num_samples": int(reply.num_samples), "loss": float(reply.loss),
                   "steps": int(reply.steps), "nbytes": int(reply.nbytes), "problem": problem or ""}
        content = RecordDict({"message": _to_array_record(reply.message) if reply.message else ArrayRecord(),
                              "metrics": ConfigRecord(metrics)})
        return Message(content=content, reply_to=msg)

    def query(self, msg: Message, context: Context) -> Message:
        """Which client this SuperNode is (and, with ``report=1``, its persistent state)."""
        cfg = msg.content["config"]
        pid = int(context.node_config.get("partition-id", -1))
        records: dict[str, Any] = {"metrics": ConfigRecord({"partition-id": pid})}
        if int(cfg.get("report", 0)):
            key = _STATE.format(task=int(cfg["task"]))
            records["state"] = context.state[key].copy() if key in context.state else ArrayRecord()
        return Message(content=RecordDict(records), reply_to=msg)


def make_client_app(tasks: FlowerTask | Sequence[FlowerTask]) -> ClientApp:
    """A ``ClientApp`` that runs the engine's client side for the client named by its ``partition-id``."""
    handlers = ClientHandlers([tasks] if isinstance(tasks, FlowerTask) else list(tasks))
    app = ClientApp()

    @app.train()
    def train(msg: Message, context: Context) -> Message:
        return handlers.train(msg, context)

    @app.query()
    def query(msg: Message, context: Context) -> Message:
        return handlers.query(msg, context)

    return app


def finite_problem(reply: Reply) -> str | None:
    """Why the decoded messages of a reply are unusable (NaN/Inf), or ``None``."""
    for name, value in reply.message.items():
        if not bool(torch.isfinite(value).all()):
            return f"{name!r} arrived with {int((~torch.isfinite(value)).sum())} NaN/Inf values"
    return None


# ---------------------------------------------------------------------------------------------------- server
def _node_map(grid: Grid, expected: int, timeout_s: float) -> dict[int, int]:
    """``{client id: node id}`` from a ``query`` to every SuperNode (waits until ``expected`` are connected)."""
    deadline = time.monotonic() + timeout_s
    nodes = list(grid.get_node_ids())
    while len(nodes) < expected and time.monotonic() < deadline:
        time.sleep(0.5)
        nodes = list(grid.get_node_ids())
    if len(nodes) < expected:
        raise FederatedError(f"only {len(nodes)} of {expected} Flower SuperNodes connected within {timeout_s:.0f} s")
    msgs = [Message(RecordDict({"config": ConfigRecord({"report": 0})}), dst_node_id=n, message_type="query")
            for n in nodes]
    mapping: dict[int, int] = {}
    for reply in grid.send_and_receive(msgs, timeout=timeout_s):
        if reply.has_error():
            continue
        pid = int(reply.content["metrics"]["partition-id"])
        mapping[pid] = reply.metadata.src_node_id
    return mapping


def run_server_task(grid: Grid, task: FlowerTask, t: int, rounds: int, nodes: dict[int, int],
                    timeout_s: float = 600.0, personal: bool = True) -> FlowerResult:
    """Run ``rounds`` rounds of ``task`` (index ``t``) over the grid; returns the global model and history."""
    core = task.server()
    result = FlowerResult()
    missing = [k for k in range(task.data.num_clients) if k not in nodes]
    if missing:
        raise FederatedError(f"no Flower SuperNode has partition-id {missing[:5]} (task {t})")
    for r in range(rounds):
        started = time.perf_counter()
        record = RoundRecord(round=r, clients=[])
        msgs = []
        for k in core.select(r):
            down = core.send(k, r)
            record.bytes_down += down.nbytes
            arrays = {"__model__": down.wire, **{f"payload.{n}": v for n, v in down.payload.items()}}
            content = RecordDict({"model": _to_array_record(arrays),
                                  "config": ConfigRecord({"task": t, "round": r, "cid": k})})
            msgs.append(Message(content, dst_node_id=nodes[k], message_type="train", group_id=str(r)))
        replies: list[Reply] = []
        for reply in grid.send_and_receive(msgs, timeout=timeout_s):
            if reply.has_error():
                src = {v: k for k, v in nodes.items()}.get(reply.metadata.src_node_id, -1)
                if reply.error.code == _VANISHED:
                    record.vanished.append(src)
                else:
                    record.dropped[src] = f"Flower error {reply.error.code}: {reply.error.reason}"
                continue
            m = reply.content["metrics"]
            message = _from_array_record(reply.content["message"])
            replies.append(Reply(int(m["cid"]), message, int(m["nbytes"]), int(m["num_samples"]), float(m["loss"]),
                                 int(m["steps"]), str(m["problem"]) or None))
        record.vanished.sort()
        dropped = dict(record.dropped)
        core.close(r, replies, record)
        record.dropped.update(dropped)
        result.history.rounds.append(record)
        result.round_wall_s.append(time.perf_counter() - started)
    result.global_vec = core.cohorts["default"].global_vec.clone()
    if not personal:
        return result
    msgs = [Message(RecordDict({"config": ConfigRecord({"report": 1, "task": t})}), dst_node_id=nodes[k],
                    message_type="query") for k in range(task.data.num_clients)]
    rt = core.cohorts["default"].runtime
    for reply in grid.send_and_receive(msgs, timeout=timeout_s):
        if reply.has_error():
            continue
        k = int(reply.content["metrics"]["partition-id"])
        state = _from_array_record(reply.content["state"]) if len(reply.content["state"]) else {}
        result.personal[k] = rt.own_model(result.global_vec, state if state else rt.fresh_state(k))
    return result


def make_server_app(tasks: FlowerTask | Sequence[FlowerTask], rounds: int,
                    results: list[FlowerResult] | None = None, timeout_s: float = 600.0,
                    personal: bool = True) -> ServerApp:
    """A ``ServerApp`` running each task for ``rounds`` rounds in turn; results are appended to ``results``
    (``personal``: also collect every client's personal model at the end)."""
    task_list = [tasks] if isinstance(tasks, FlowerTask) else list(tasks)
    sink = results if results is not None else []
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        expected = max(t.data.num_clients for t in task_list)
        nodes = _node_map(grid, expected, timeout_s)
        for t, task in enumerate(task_list):
            sink.append(run_server_task(grid, task, t, rounds, nodes, timeout_s, personal))

    return app


def run_flower_simulation(tasks: FlowerTask | Sequence[FlowerTask], rounds: int, num_cpus: int = 1,
                          num_cpus_per_client: float = 1.0, timeout_s: float = 600.0,
                          personal: bool = True) -> list[FlowerResult]:
    """Run the tasks (one after the other, in one federation) as a Flower simulation over Ray.

    Returns one :class:`FlowerResult` per task. ``num_cpus`` bounds the Ray cluster (workers =
    ``num_cpus / num_cpus_per_client``).
    """
    from flwr.simulation import run_simulation

    task_list = [tasks] if isinstance(tasks, FlowerTask) else list(tasks)
    results: list[FlowerResult] = []
    n = max(t.data.num_clients for t in task_list)
    run_simulation(
        server_app=make_server_app(task_list, rounds, results, timeout_s, personal),
        client_app=make_client_app(task_list),
        num_supernodes=n,
        backend_config={"client_resources": {"num_cpus": num_cpus_per_client, "num_gpus": 0.0},
                        "init_args": {"num_cpus": num_cpus, "include_dashboard": False, "log_to_driver": False}},
    )
    if len(results) != len(task_list):
        raise FederatedError(f"the Flower simulation finished {len(results)} of {len(task_list)} tasks "
                             "(see the Flower log above for the error)")
    return results


__all__ = ["ClientHandlers", "FlowerResult", "FlowerTask", "finite_problem", "make_client_app", "make_server_app",
           "run_flower_simulation", "run_server_task"]
