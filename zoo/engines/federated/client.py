"""Client data and the client side of a round, shared by the simulator, the batched trainer, Flower and
torch.distributed: materialise a client from its stored state, train it, build and encode its reply.

A client's persistent state is one flat dict (see :mod:`.store` for the namespaces); :class:`ClientRuntime`
turns it into a :class:`~zoo.engines.federated.local.LocalContext`, runs the algorithm's hooks and the local
trainer, and returns a :class:`ClientOutcome`; :func:`encode_reply` turns the outcome's messages into what
travels (wire entries of model-shaped messages, raw messages whole) through the uplink codec, with the client's
codec state.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from zoo.errors import FederatedError
from zoo.engines.federated import store as st
from zoo.engines.federated.algorithm import Algorithm
from zoo.engines.federated.codec import Codec, Identity, encode, whole
from zoo.engines.federated.faults import check_message
from zoo.engines.federated.flat import ParamLayout, flatten, flatten_buffers, layout_of, load_buffers, unbind
from zoo.engines.federated.local import FlatOptimizer, LocalContext, LocalRecipe, LocalTrainer, LossFn

Transform = Callable[[Any], Any]


@dataclass(frozen=True)
class FederatedData:
    """Each client's data: a dataset, the indices of that dataset the client holds, and an optional transform.

    Build it from one dataset and a partition (``FederatedData.partitioned(ds, parts)``) or from one dataset per
    silo (``FederatedData.per_silo([ds0, ds1, ...])``). ``transforms[k]`` (feature shift: a per-client style or
    affine change of the inputs) is applied to every batch client ``k`` draws. Client data can change over time:
    :meth:`with_indices` returns a copy in which one client holds other samples (the simulator swaps it in).
    """

    datasets: tuple[Any, ...]
    indices: tuple[np.ndarray, ...]
    transforms: tuple[Transform | None, ...] | None = None

    def __post_init__(self) -> None:
        if len(self.datasets) != len(self.indices) or not self.datasets:
            raise FederatedError("FederatedData needs one (dataset, indices) pair per client, and >= 1 client")
        for k, idx in enumerate(self.indices):
            if len(idx) == 0:
                raise FederatedError(f"client {k} holds no samples")
        if self.transforms is not None and len(self.transforms) != len(self.datasets):
            raise FederatedError(f"{len(self.transforms)} transforms for {len(self.datasets)} clients")

    @classmethod
    def partitioned(cls, dataset: Any, parts: Sequence[np.ndarray],
                    transforms: Sequence[Transform | None] | None = None) -> FederatedData:
        """One shared dataset split by ``parts`` (from :mod:`zoo.engines.federated.partition`)."""
        n = len(dataset)
        for k, p in enumerate(parts):
            if len(p) and (int(np.max(p)) >= n or int(np.min(p)) < 0):
                raise FederatedError(f"partition of client {k} indexes outside the dataset of {n} samples")
        return cls(tuple(dataset for _ in parts), tuple(np.asarray(p, dtype=np.int64) for p in parts),
                   tuple(transforms) if transforms is not None else None)

    @classmethod
    def per_silo(cls, datasets: Sequence[Any], transforms: Sequence[Transform | None] | None = None) -> FederatedData:
        """One dataset per silo, each used whole."""
        return cls(tuple(datasets), tuple(np.arange(len(d), dtype=np.int64) for d in datasets),
                   tuple(transforms) if transforms is not None else None)

    @property
    def num_clients(self) -> int:
        """N."""
        return len(self.datasets)

    def num_samples(self, client: int) -> int:
        """n_k."""
        return int(len(self.indices[client]))

    def transform(self, client: int) -> Transform | None:
        """Client ``client``'s input transform, if any."""
        return None if self.transforms is None else self.transforms[client]

    def with_indices(self, client: int, indices: np.ndarray) -> FederatedData:
        """A copy in which ``client`` holds ``indices`` of its dataset (client data that changes over time)."""
        idx = np.asarray(indices, dtype=np.int64)
        if idx.size == 0:
            raise FederatedError(f"client {client} would hold no samples")
        if int(idx.max()) >= len(self.datasets[client]) or int(idx.min()) < 0:
            raise FederatedError(f"indices of client {client} fall outside its dataset of "
                                 f"{len(self.datasets[client])} samples")
        new = list(self.indices)
        new[client] = idx
        return replace(self, indices=tuple(new))


def apply_transform(transform: Transform | None) -> Callable[[Any], Any] | None:
    """A batch transform that applies ``transform`` to the inputs (first element) of a batch."""
    if transform is None:
        return None

    def on_batch(batch: Any) -> Any:
        if isinstance(batch, (tuple, list)):
            return type(batch)([transform(batch[0]), *batch[1:]])
        return transform(batch)

    return on_batch


@dataclass
class ClientOutcome:
    """One client's answer before encoding: messages, new flat state, final model, counts and loss."""

    client: int
    message: dict[str, torch.Tensor]
    state: dict[str, torch.Tensor]
    weights: torch.Tensor
    num_samples: int
    loss: float
    steps: int


@dataclass
class Reply:
    """What arrives at the server from one client: decoded messages, their bytes, and the client's counts.

    ``message`` holds model-shaped messages as *wire vectors* (aggregated entries only) and raw messages whole.
    ``problem`` is set (and ``message`` empty) when the client's update was invalid before encoding.
    """

    client: int
    message: dict[str, torch.Tensor]
    nbytes: int
    num_samples: int
    loss: float
    steps: int
    problem: str | None = None
    staleness: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class ClientRuntime:
    """The client side of one architecture (cohort): template model, layout, trainer and the method's hooks.

    Args:
        model: the cohort's template module (its parameters are the initial model).
        loss_fn: ``loss_fn(model, batch)`` or ``loss_fn(model, batch, ctx)``.
        recipe: the run's local recipe (``Algorithm.recipe`` may change it per client and round).
        algorithm: the method.
        roles: parameter roles (``{"head": "local"}``).
        seed: the run's seed (batches are drawn from ``(seed, round, client)``).
        collate: collate function for non-tensor datasets.
        device: where the template and every client tensor live.
        cohort: name of the architecture group.
    """

    def __init__(self, model: nn.Module, loss_fn: LossFn, recipe: LocalRecipe, algorithm: Algorithm,
                 roles: dict[str, str] | None = None, seed: int = 0,
                 collate: Callable[[list[Any]], Any] | None = None, device: torch.device | str | None = None,
                 cohort: str = "default") -> None:
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        self.model = model.to(self.device)
        self.algorithm = algorithm
        self.recipe = recipe
        self.seed = int(seed)
        self.cohort = cohort
        self.layout: ParamLayout = layout_of(model, roles)
        self.trainer = LocalTrainer(self.model, loss_fn, recipe, self.layout, collate)
        self.init_vec = flatten(self.model)
        self.init_buffers = flatten_buffers(self.model)
        self.sizes = algorithm.message_sizes(self.layout.numel)
        self.has_local = self.layout.count("local") > 0

    # ---------------------------------------------------------------------------------------------- state
    def fresh_state(self, client: int) -> dict[str, torch.Tensor]:
        """The state of a client that never took part: the algorithm's init, its local parts as initialised."""
        state = st.join("alg", self.algorithm.init_client_state(client, self.init_vec))
        if self.has_local:
            state["local"] = self.layout.take(self.init_vec, "local")
        if self.init_buffers is not None:
            state["buffers"] = self.init_buffers.clone()
        return state

    def own_model(self, received: torch.Tensor, state: dict[str, torch.Tensor]) -> torch.Tensor:
        """The client's personal model: ``received`` with the client's ``local`` entries."""
        if not self.has_local:
            return received
        own = received.clone()
        self.layout.put(own, "local", state["local"].to(own.device))
        return own

    def received_payload(self, payload: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Payload vectors as the client uses them: model-shaped ones (sent as wire vectors) back to ``[P]``
        with zeros on the entries that do not travel."""
        out = {}
        for name, v in payload.items():
            v = v.to(self.device)
            if v.dim() == 1 and v.numel() == self.layout.wire_size and not self.layout.all_aggregated():
                out[name] = self.layout.from_wire(v, torch.zeros_like(self.init_vec))
            else:
                out[name] = v
        return out

    def received_model(self, wire: torch.Tensor) -> torch.Tensor:
        """The full model a client holds after receiving ``wire`` (frozen and local entries from the template)."""
        return self.layout.from_wire(wire.to(self.device), self.init_vec)

    # ---------------------------------------------------------------------------------------------- prepare
    def prepare(self, client: int, round_idx: int, received: torch.Tensor, payload: dict[str, torch.Tensor],
                state: dict[str, torch.Tensor] | None, data: FederatedData) -> LocalContext:
        """Materialise ``client``: its start model, state, payload, recipe and samples, as a context."""
        flat_state = {k: v.to(self.device) for k, v in (state or self.fresh_state(client)).items()}
        alg_state = st.split(flat_state, "alg")
        own = self.own_model(received, flat_state)
        start = self.algorithm.start_weights(received, own, alg_state)
        if start is not received and start is not own:
            start = start.to(self.device)
        if self.has_local:
            start = torch.where(self.layout.mask("local", torch.bool, self.device), own, start)
        weights = start.detach().clone()
        recipe = self.algorithm.recipe(client, round_idx, self.recipe, alg_state)
        indices = self.algorithm.client_indices(client, round_idx, data.indices[client], alg_state)
        n = int(len(indices))
        ctx = LocalContext(
            client=client, round_idx=round_idx, weights=weights, start=weights.detach().clone(), state=alg_state,
            payload={k: v.to(self.device) for k, v in payload.items()}, num_samples=n,
            steps=recipe.num_steps(n), lr=recipe.lr, recipe=recipe, cohort=self.cohort, layout=self.layout,
        )
        ctx.scratch["_flat_state"] = flat_state
        ctx.scratch["_indices"] = np.asarray(indices, dtype=np.int64)
        return ctx

    def optimiser_state(self, ctx: LocalContext) -> dict[str, torch.Tensor]:
        """The client's optimiser state (persisted) or a fresh one (``optimizer_state="reset"``)."""
        recipe = ctx.recipe or self.recipe
        opt = FlatOptimizer(recipe)
        saved = st.split(ctx.scratch["_flat_state"], "opt")
        fresh = opt.init_state(ctx.weights)
        if recipe.optimizer_state == "reset" or set(saved) != set(fresh):
            return fresh
        return saved

    # ---------------------------------------------------------------------------------------------- run
    def run(self, client: int, round_idx: int, received: torch.Tensor, payload: dict[str, torch.Tensor],
            state: dict[str, torch.Tensor] | None, data: FederatedData) -> ClientOutcome:
        """One client's local update, sequentially on the template module."""
        ctx = self.prepare(client, round_idx, received, payload, state, data)
        opt_state = self.optimiser_state(ctx)
        flat_state = ctx.scratch["_flat_state"]
        if "buffers" in flat_state:
            load_buffers(self.model, flat_state["buffers"])
        result = self.trainer.run(ctx, data.datasets[client], ctx.scratch["_indices"], self.algorithm.local_rule(),
                                  self.seed, opt_state, apply_transform(data.transform(client)))
        message = self.algorithm.message(ctx)
        new_state = self.finish_state(ctx, opt_state)
        unbind(self.model)
        return ClientOutcome(client, message, new_state, ctx.weights, ctx.num_samples, result.loss, result.steps)

    def finish_state(self, ctx: LocalContext, opt_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The client's new flat state after training (algorithm state, optimiser, local parts, buffers)."""
        old = ctx.scratch["_flat_state"]
        new = st.join("alg", ctx.state)
        recipe = ctx.recipe or self.recipe
        if recipe.optimizer_state == "persist":
            new.update(st.join("opt", opt_state))
        if self.has_local:
            new["local"] = self.layout.take(ctx.weights, "local")
        if "buffers" in old:
            fb = flatten_buffers(self.model)
            if fb is not None:
                new["buffers"] = fb
        for key, value in old.items():  # codec states travel on unchanged
            if key.startswith(("up.", "down.")):
                new[key] = value
        return new

    # ---------------------------------------------------------------------------------------------- reply
    def model_shaped(self, name: str) -> bool:
        """True when message ``name`` is model-shaped (sliced to the wire entries)."""
        return name not in self.algorithm.raw_messages

    def encode_reply(self, outcome: ClientOutcome, round_idx: int, codec: Codec | None) -> Reply:
        """What travels: check the messages, slice model-shaped ones to the wire, encode with the client's codec
        state (kept in ``outcome.state["up.*"]``), count the bytes."""
        problem = check_message(outcome.message, self.sizes)
        if problem is not None:
            return Reply(outcome.client, {}, 0, outcome.num_samples, outcome.loss, outcome.steps, problem)
        codec = codec or Identity()
        codec_state = st.split(outcome.state, "up")
        sent: dict[str, torch.Tensor] = {}
        nbytes = 0
        for name in sorted(self.sizes):
            value = outcome.message[name].detach()
            if self.model_shaped(name):
                value = self.layout.to_wire(value)
                segments = self.layout.segments("aggregate")
            else:
                segments = whole(value.numel())
            enc = encode(codec, value, segments, codec_state, outcome.client, round_idx, name)
            sent[name] = enc.decoded
            nbytes += enc.nbytes
        for key in [k for k in outcome.state if k.startswith("up.")]:
            del outcome.state[key]
        outcome.state.update(st.join("up", codec_state))
        return Reply(outcome.client, sent, nbytes, outcome.num_samples, outcome.loss, outcome.steps)


def client_runtime_for(model_fn: Callable[[], nn.Module], **kw: Any) -> ClientRuntime:
    """A :class:`ClientRuntime` around a fresh model from ``model_fn`` (Flower and torch.distributed workers)."""
    return ClientRuntime(model_fn(), **kw)
