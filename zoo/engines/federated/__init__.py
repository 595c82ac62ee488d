"""Federated learning engine: deterministic simulators (server-based, asynchronous, decentralised), and real
back-ends past one machine (Flower ServerApp/ClientApp, torch.distributed gossip). Full guide: docs/federated.md.

A federated method is a plugin: an :class:`Algorithm` subclass (server and client hooks) plus, where needed, a
:class:`LocalRule`, a :class:`Codec`, a :class:`Combiner`, a sampler or a partitioner. No engine change.

Model and state
    A model is a flat ``[P]`` vector with parameter roles (``layout_of(model, {"head": "local"})``):
    ``aggregate`` entries travel and are averaged; ``local`` entries never leave the client; ``frozen`` ones are
    held once and never sent. Only the clients of a round are materialised; every other registered client's state
    (algorithm state, optimiser state, local parameters, BatchNorm buffers, codec residuals) lives compactly in a
    :class:`MemoryStore` or a memory-mapped :class:`DiskStore`.

Data (:mod:`.partition`, :class:`FederatedData`)
    ``iid``, ``dirichlet``, ``label_shards``, ``given``, ``long_tail`` / ``long_tail_dirichlet``,
    ``power_law_sizes``, ``similarity`` (s%), ``label_scarce``, ``feature_shift`` (per-client transforms),
    ``graph_subgraphs``. ``FederatedData.partitioned(ds, parts, transforms)`` / ``per_silo(datasets)``;
    ``with_indices`` for client data that changes over time.

Who trains (:mod:`.sampling`, :mod:`.asynchronous`)
    ``AllClients``, ``UniformFraction``, ``Bernoulli``, ``CustomSampler``; asynchronous/anarchic participation on
    an :class:`EventClock` with ``Always``, ``Anarchic``, ``Scheduled`` policies and staleness weights.

How a client trains (:mod:`.local`)
    ``LocalRecipe`` (steps/epochs, batch, lr + schedule, SGD/Adam, optimiser state persisted per client or reset);
    ``loss_fn(model, batch[, ctx])`` (``ctx``: client id, round, state, payload); ``LocalRule`` hooks ``begin``,
    ``gradient``, ``correct``, ``end``; ``ProxRule``, ``SAMRule``, ``ComposedRule``. Sequential or batched
    (``torch.func``) execution with the same results.

What the method is (:mod:`.algorithm`)
    ``message_sizes`` / ``raw_messages``, ``init_server_state``, ``init_client_state``, ``payload``, ``downlink``
    (per-client), ``start_weights``, ``recipe`` (per client, per round), ``client_indices``, ``local_rule``,
    ``message``, ``client_weight``, ``aggregate(..., AggregationInfo)``, ``server_step(ServerView)``,
    ``personal_weights``. Aggregators: ``WeightedFedAvg``, ``ServerMomentum``, ``RobustFedAvg(Combiner)``;
    combiners ``WeightedMean``, ``CoordinateMedian``, ``TrimmedMean``.

Communication (:mod:`.codec`)
    ``Identity``, ``TopK(fraction, per_layer)``, ``UniformQuantize(bits, per_layer)``, ``ErrorFeedback(inner)``;
    codecs see the layer layout and keep per-sender state on every path. Bytes are in each :class:`RoundRecord`.

Faults (:mod:`.faults`, :mod:`.attacks`)
    ``UpdatePolicy("raise"|"drop")`` for NaN/Inf/misshaped updates, ``Dropout`` for vanishing clients,
    ``Byzantine(clients, SignFlip()|GaussianAttack()|ALIE())`` on the uplink or on gossip.

Topologies and time (:mod:`.topology`, :mod:`.network`)
    ``star``, ``ring``, ``complete``, ``mst``, ``from_adjacency``, ``MultigraphTopology``; ``NetworkModel``,
    ``DelayRecursion``, ``StarNetwork``.

Simulators
    ``FederatedSimulator`` (cohorts of architectures, per-client evaluation with global and personalised
    metrics, checkpoints), ``AsyncFederatedSimulator``, ``DecentralizedSimulator`` (stale links, Q gossip steps,
    node combiners, Byzantine nodes, codecs). Past one machine: :mod:`.flower` and :mod:`.distributed`.

Determinism: a client's batches in round r come from ``derive_seed(seed, "batches", r, client)``; sampling,
dropout and attacks from ``(seed, round)``: results do not depend on the order clients are trained in.
"""
from __future__ import annotations

from zoo.engines.federated.aggregators import (
    Aggregator,
    Combiner,
    CoordinateMedian,
    RobustFedAvg,
    ServerMomentum,
    TrimmedMean,
    WeightedFedAvg,
    WeightedMean,
    hinge_staleness,
    polynomial_staleness,
    weighted_mean,
)
from zoo.engines.federated.algorithm import AggregationInfo, Algorithm
from zoo.engines.federated.asynchronous import Always, Anarchic, AsyncFederatedSimulator, EventClock, Scheduled
from zoo.engines.federated.attacks import ALIE, Byzantine, GaussianAttack, SignFlip, alie_z
from zoo.engines.federated.batched import BatchedTrainer
from zoo.engines.federated.client import ClientOutcome, ClientRuntime, FederatedData, Reply
from zoo.engines.federated.codec import Codec, CodecContext, Encoded, ErrorFeedback, Identity, TopK, UniformQuantize
from zoo.engines.federated.faults import NO_DROPOUT, Dropout, UpdatePolicy, check_message
from zoo.engines.federated.flat import (
    ParamLayout,
    bind,
    flatten,
    flatten_buffers,
    layout_of,
    load_buffers,
    load_flat,
    new_buffer,
    unbind,
)
from zoo.engines.federated.local import (
    ComposedRule,
    FlatOptimizer,
    LocalContext,
    LocalRecipe,
    LocalResult,
    LocalRule,
    LocalTrainer,
    ProxRule,
    SAMRule,
)
from zoo.engines.federated.mixing import mix
from zoo.engines.federated.network import DelayRecursion, NetworkModel
from zoo.engines.federated.partition import (
    dirichlet,
    feature_shift,
    given,
    graph_subgraphs,
    iid,
    label_histogram,
    label_scarce,
    label_shards,
    long_tail,
    long_tail_dirichlet,
    power_law_sizes,
    similarity,
)
from zoo.engines.federated.records import FLHistory, RoundRecord
from zoo.engines.federated.sampling import AllClients, Bernoulli, ClientSampler, CustomSampler, UniformFraction
from zoo.engines.federated.seeding import derive_seed
from zoo.engines.federated.server import Cohort, ServerCore, ServerView
from zoo.engines.federated.simulator import DecentralizedSimulator, FederatedSimulator, StarNetwork
from zoo.engines.federated.store import ClientStore, DiskStore, MemoryStore
from zoo.engines.federated.topology import (
    MixingPlan,
    MultigraphTopology,
    StaticTopology,
    Topology,
    complete,
    from_adjacency,
    mst,
    ring,
    star,
    weights_from_adjacency,
)

__all__ = [
    "ALIE", "AggregationInfo", "Aggregator", "Algorithm", "AllClients", "Always", "Anarchic",
    "AsyncFederatedSimulator", "BatchedTrainer", "Bernoulli", "Byzantine", "ClientOutcome", "ClientRuntime",
    "ClientSampler", "ClientStore", "Codec", "CodecContext", "Cohort", "Combiner", "ComposedRule",
    "CoordinateMedian", "CustomSampler", "DecentralizedSimulator", "DelayRecursion", "DiskStore", "Dropout",
    "Encoded", "ErrorFeedback", "EventClock", "FLHistory", "FederatedData", "FederatedSimulator", "FlatOptimizer",
    "GaussianAttack", "Identity", "LocalContext", "LocalRecipe", "LocalResult", "LocalRule", "LocalTrainer",
    "MemoryStore", "MixingPlan", "MultigraphTopology", "NO_DROPOUT", "NetworkModel", "ParamLayout", "ProxRule",
    "Reply", "RobustFedAvg", "RoundRecord", "SAMRule", "Scheduled", "ServerCore", "ServerMomentum", "ServerView",
    "SignFlip", "StarNetwork", "StaticTopology", "TopK", "Topology", "TrimmedMean", "UniformFraction",
    "UniformQuantize", "UpdatePolicy", "WeightedFedAvg", "WeightedMean", "alie_z", "bind", "check_message",
    "complete", "derive_seed", "dirichlet", "feature_shift", "flatten", "flatten_buffers", "from_adjacency",
    "given", "graph_subgraphs", "hinge_staleness", "iid", "label_histogram", "label_scarce", "label_shards",
    "layout_of", "load_buffers", "load_flat", "long_tail", "long_tail_dirichlet", "mix", "mst", "new_buffer",
    "polynomial_staleness", "power_law_sizes", "ring", "similarity", "star", "unbind", "weighted_mean",
    "weights_from_adjacency",
]
