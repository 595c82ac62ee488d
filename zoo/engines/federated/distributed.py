"""Decentralised training across processes or machines on ``torch.distributed`` (gloo): one process per silo or per
group of silos, the same local updates, codecs, combiners and Byzantine models as the
:class:`~zoo.engines.federated.simulator.DecentralizedSimulator`, and the same weights.

Each process owns some nodes (``owner(node) = node % world_size`` unless given). A round: every owned node takes
its local steps (:class:`~zoo.engines.federated.client.ClientRuntime`, batches from ``(seed, round, node)``), then
for each of the ``gossip_steps`` mixing steps it encodes its model (per-node codec state), sends it point to point
to the processes owning its out-neighbours on the round's fresh links and receives its in-neighbours' models, and
mixes (the linear rule or a node combiner). Models over stale links (MultigraphFL's weak edges) are the last ones
received from that neighbour, so no extra traffic is needed. Byzantine nodes' models are forged after an
all-gather (ALIE is omniscient).

Run on one machine with :func:`launch_local` (processes over 127.0.0.1), or on several with one command per
process (docs/federated.md)::

    python -m zoo.engines.federated.distributed --task mymodule:make_task --rounds 100 \\
        --rank 0 --world-size 4 --init-method tcp://10.0.0.1:29500 --out runs/gossip
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from zoo.errors import FederatedError
from zoo.engines.federated import store as st
from zoo.engines.federated.aggregators import Combiner
from zoo.engines.federated.algorithm import Algorithm
from zoo.engines.federated.attacks import Byzantine
from zoo.engines.federated.client import ClientRuntime, FederatedData
from zoo.engines.federated.codec import Codec, Identity, encode
from zoo.engines.federated.local import LocalRecipe, LossFn
from zoo.engines.federated.mixing import mix
from zoo.engines.federated.store import MemoryStore
from zoo.engines.federated.topology import Topology


@dataclass
class GossipTask:
    """Everything every process builds identically (mirrors the :class:`DecentralizedSimulator` arguments)."""

    model_fn: Callable[[], nn.Module]
    loss_fn: LossFn
    data: FederatedData
    topology: Topology
    recipe: LocalRecipe
    algorithm: Algorithm | None = None
    seed: int = 0
    codec: Codec | None = None
    roles: Mapping[str, str] | None = None
    byzantine: Byzantine | None = None
    node_combiner: Combiner | None = None
    gossip_steps: int = 1


def load_task(spec: str | GossipTask | Callable[[], GossipTask]) -> GossipTask:
    """A task from ``"module:function"``, ``"path/to/file.py:function"``, a factory or a task."""
    if isinstance(spec, GossipTask):
        return spec
    if callable(spec):
        return spec()
    target, _, name = str(spec).rpartition(":")
    if not target or not name:
        raise FederatedError(f"task must be 'module:function' or 'file.py:function', got {spec!r}")
    if target.endswith(".py"):
        path = Path(target)
        module_spec = importlib.util.spec_from_file_location(path.stem, path)
        if module_spec is None or module_spec.loader is None:
            raise FederatedError(f"cannot load the task file {path}")
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    factory = getattr(module, name, None)
    if factory is None:
        raise FederatedError(f"{target} has no function {name!r}")
    return factory()


class GossipWorker:
    """The nodes one process owns, and their rounds (see module docstring)."""

    def __init__(self, task: GossipTask, rank: int, world_size: int,
                 owner: Callable[[int], int] | None = None) -> None:
        self.task = task
        self.rank, self.world = int(rank), int(world_size)
        self.algorithm = task.algorithm or Algorithm()
        self.runtime = ClientRuntime(task.model_fn(), task.loss_fn, task.recipe, self.algorithm,
                                     dict(task.roles) if task.roles else None, task.seed, device="cpu")
        self.layout = self.runtime.layout
        self.n = task.data.num_clients
        if task.topology.num_nodes != self.n:
            raise FederatedError(f"topology has {task.topology.num_nodes} nodes but there are {self.n} clients")
        self.owner = owner or (lambda node: node % self.world)
        self.nodes = [i for i in range(self.n) if self.owner(i) == self.rank]
        self.live = {i: self.runtime.init_vec.clone() for i in self.nodes}
        self.store = MemoryStore()
        self.codec = task.codec or Identity()
        self.received: dict[int, tuple[int, torch.Tensor]] = {}
        self.round_idx = 0
        self._agg = self.layout.mask("aggregate", torch.bool)

    def run(self, rounds: int) -> dict[int, torch.Tensor]:
        """Run ``rounds`` rounds; returns ``{node: model}`` of the owned nodes."""
        for _ in range(rounds):
            self.round()
        return {i: v.clone() for i, v in self.live.items()}

    def round(self) -> None:
        """Local steps of the owned nodes, then the gossip steps."""
        r = self.round_idx
        plan = self.task.topology.plan(r)
        for i in self.nodes:
            state = self.store.get(i)
            out = self.runtime.run(i, r, self.live[i].clone(), {}, state, self.task.data)
            if not bool(torch.isfinite(out.weights).all()):
                raise FederatedError(f"round {r}: node {i} produced a non-finite model")
            self.live[i] = out.weights.detach().clone()
            self.store.put(i, out.state)
        w = plan.weights.to(torch.float32)
        steps = self.task.gossip_steps
        if steps > 1 and plan.max_age > 0:
            raise FederatedError("several gossip steps need a plan without stale links")
        for q in range(steps):
            models = self._exchange(plan, r, q)
            new = {}
            for i in self.nodes:
                new[i] = self._combine(i, w, models, plan)
            for i in self.nodes:
                self.live[i] = torch.where(self._agg, new[i], self.live[i]) if not self.layout.all_aggregated() \
                    else new[i]
        self.round_idx += 1

    def _sent(self, j: int, r: int) -> torch.Tensor:
        live = self.live[j]
        if isinstance(self.codec, Identity):
            return live
        state = self.store.get(j) or {}
        codec_state = st.split(state, "gossip")
        enc = encode(self.codec, self.layout.to_wire(live), self.layout.segments("aggregate"), codec_state, j, r,
                     "model")
        for key in [key for key in state if key.startswith("gossip.")]:
            del state[key]
        state.update(st.join("gossip", codec_state))
        self.store.put(j, state)
        return self.layout.from_wire(enc.decoded, live)

    def _exchange(self, plan: Any, r: int, q: int) -> dict[int, torch.Tensor]:
        """Send owned nodes' models along the fresh links, receive the in-neighbours'; returns ``{node: model}``."""
        fresh = (plan.weights > 0) & (plan.age == 0)
        fresh.fill_diagonal_(False)
        sent = {j: self._sent(j, r) for j in self.nodes}
        if self.task.byzantine is not None:
            sent = self._forge(sent, r, q)
        p = self.layout.numel
        ops, inbox = [], {}
        for j in self.nodes:  # each owned model once to every other process that needs it
            dests = sorted({self.owner(i) for i in range(self.n) if bool(fresh[i, j]) and self.owner(i) != self.rank})
            for d in dests:
                ops.append(dist.P2POp(dist.isend, sent[j].contiguous(), d, tag=j))
        needed = sorted({j for i in self.nodes for j in range(self.n)
                         if bool(fresh[i, j]) and self.owner(j) != self.rank})
        for j in needed:
            buf = torch.empty(p, dtype=self.runtime.init_vec.dtype)
            inbox[j] = buf
            ops.append(dist.P2POp(dist.irecv, buf, self.owner(j), tag=j))
        if ops:
            for req in dist.batch_isend_irecv(ops):
                req.wait()
        models = dict(sent)
        models.update(inbox)
        for j, v in models.items():
            self.received[j] = (r, v)
        return models

    def _forge(self, sent: dict[int, torch.Tensor], r: int, q: int) -> dict[int, torch.Tensor]:
        assert self.task.byzantine is not None
        p = self.layout.numel
        full = torch.zeros(self.n, p)
        for j, v in sent.items():
            full[j] = v
        dist.all_reduce(full)  # every node's sent model on every process (each row written by its owner only)
        wire = self.task.byzantine.apply(list(range(self.n)), self.layout.to_wire(full), r, q)
        forged = self.layout.from_wire(wire, full)
        return {j: forged[j] for j in self.nodes}

    def _combine(self, i: int, w: torch.Tensor, models: dict[int, torch.Tensor], plan: Any) -> torch.Tensor:
        cols = [j for j in range(self.n) if float(w[i, j]) > 0]
        rows = []
        for j in cols:
            if j == i:
                rows.append(self.live[i])
            elif int(plan.age[i, j]) == 0:
                rows.append(models[j])
            else:
                got = self.received.get(j)
                if got is None or got[0] != self.round_idx - int(plan.age[i, j]):
                    raise FederatedError(f"node {i} needs node {j}'s model from round "
                                         f"{self.round_idx - int(plan.age[i, j])}, which it never received")
                rows.append(got[1])
        combiner = self.task.node_combiner
        if combiner is None:
            full = torch.zeros(self.n, self.layout.numel)
            for j, row in zip(cols, rows):
                full[j] = row
            diag = torch.zeros(1, self.n)
            diag[0, :] = w[i]
            return mix(diag, full)[0]
        order = [cols.index(i)] + [c for c in range(len(cols)) if cols[c] != i]
        stacked = torch.stack([rows[c] for c in order])
        weights = torch.stack([w[i, cols[c]] for c in order])
        return combiner.combine(stacked, weights)


def gossip_worker(rank: int, world_size: int, init_method: str, task: Any, rounds: int,
                  out_dir: str | None = None, timeout_s: float = 300.0) -> dict[int, torch.Tensor]:
    """Join the process group, run the owned nodes for ``rounds`` rounds, leave; returns (and saves) the models."""
    from datetime import timedelta

    dist.init_process_group("gloo", init_method=init_method, rank=rank, world_size=world_size,
                            timeout=timedelta(seconds=timeout_s))
    try:
        worker = GossipWorker(load_task(task), dist.get_rank(), dist.get_world_size())
        result = worker.run(rounds)
        dist.barrier()
    finally:
        dist.destroy_process_group()
    if out_dir is not None:
        from safetensors.torch import save_file

        path = Path(out_dir)
        path.mkdir(parents=True, exist_ok=True)
        save_file({f"node{k}": v.contiguous() for k, v in result.items()}, str(path / f"rank{rank}.safetensors"))
    return result


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _child(rank: int, world: int, init: str, task: Any, rounds: int, queue: Any) -> None:
    torch.set_num_threads(1)
    try:
        result = gossip_worker(rank, world, init, task, rounds)
        queue.put((rank, {k: v.numpy() for k, v in result.items()}, None))  # by value, not shared memory
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        queue.put((rank, {}, repr(exc)))


def launch_local(task: Any, rounds: int, world_size: int, start_method: str = "fork",
                 timeout_s: float = 300.0) -> dict[int, torch.Tensor]:
    """Run ``world_size`` processes over 127.0.0.1 and return every node's model after ``rounds`` rounds.

    With ``start_method="fork"`` the task object is inherited; with ``"spawn"`` pass a ``"module:function"``
    string (or a picklable factory).
    """
    import torch.multiprocessing as mp

    ctx = mp.get_context(start_method)
    queue = ctx.Queue()
    init = f"tcp://127.0.0.1:{free_port()}"
    procs = [ctx.Process(target=_child, args=(r, world_size, init, task, rounds, queue)) for r in range(world_size)]
    for p in procs:
        p.start()
    out: dict[int, torch.Tensor] = {}
    errors = []
    for _ in procs:
        rank, result, error = queue.get(timeout=timeout_s)
        if error:
            errors.append(f"rank {rank}: {error}")
        out.update({k: torch.from_numpy(v) for k, v in result.items()})
    for p in procs:
        p.join(timeout=timeout_s)
    if errors:
        raise FederatedError("torch.distributed gossip failed: " + "; ".join(errors))
    return out


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: one process of a multi-machine gossip run."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--task", required=True, help="module:function or file.py:function returning a GossipTask")
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--rank", type=int, default=-1, help="this process (default: torch reads RANK with env://)")
    ap.add_argument("--world-size", type=int, default=-1)
    ap.add_argument("--init-method", default="env://", help="tcp://HOST:PORT of rank 0, or env:// (torchrun)")
    ap.add_argument("--out", default=None, help="folder for rank<R>.safetensors with the owned nodes' models")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    result = gossip_worker(args.rank, args.world_size, args.init_method, args.task, args.rounds, args.out)
    print(f"nodes {sorted(result)} done after {args.rounds} rounds")


if __name__ == "__main__":
    main()
