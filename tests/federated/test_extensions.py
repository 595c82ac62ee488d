"""Each extension point of the engine, exercised by a small test plugin (an Algorithm subclass, a loss, hooks).

Client context in the loss and forward; per-client per-round recipes; personalised models (per-client downlink,
local heads, per-client evaluation with global and personalised metrics); server-side compute; client data that
changes over time; clients of different architectures exchanging representations instead of weights.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from zoo.engines import federated as fl


# ---------------------------------------------------------------------------------------- context -> forward
class GatedMLP(nn.Module):
    """An MLP whose hidden units are switched by a per-client gate (pFedGate-style sub-models)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fc1, self.fc2 = nn.Linear(6, 8), nn.Linear(8, 3)

    def forward(self, x: torch.Tensor, gate: torch.Tensor | None = None) -> torch.Tensor:
        hidden = torch.tanh(self.fc1(x))
        return self.fc2(hidden if gate is None else hidden * gate)


class Gates(fl.Algorithm):
    """Client k keeps a fixed gate over the hidden units in its state (units k and k+4 switched off)."""

    def init_client_state(self, client: int, global_vec: torch.Tensor) -> dict[str, torch.Tensor]:
        gate = torch.ones(8)
        gate[[client, client + 4]] = 0.0
        return {"gate": gate}


def test_client_context_reaches_the_loss_and_the_forward_pass(h) -> None:
    seen: list[tuple[int, int, int]] = []

    def loss(model: nn.Module, batch: tuple, ctx: fl.LocalContext) -> torch.Tensor:
        seen.append((int(ctx.client), ctx.round_idx, ctx.step))
        return nn.functional.cross_entropy(model(batch[0], gate=ctx.state["gate"]), batch[1])

    sim = fl.FederatedSimulator(GatedMLP(), loss, h.federation(3), recipe=fl.LocalRecipe(steps=2, batch_size=8),
                                algorithm=Gates(), uplink=fl.Identity())
    start = sim.global_vec.clone()
    sim.run(1)
    assert seen == [(k, 0, s) for k in range(3) for s in range(2)]
    sl = sim.layout.slices()
    # client 1 alone cannot move the incoming weights of its switched-off units 1 and 5: with 3 clients the
    # average moves them by the other clients' updates only; isolate client 1 to see it
    solo = fl.FederatedSimulator(GatedMLP(), loss, h.federation(3), recipe=fl.LocalRecipe(steps=2, batch_size=8),
                                 algorithm=Gates(), sampler=fl.CustomSampler(lambda r, n, s: [1]))
    solo.run(1)
    w1 = (solo.global_vec - start)[sl["fc1.weight"]].reshape(8, 6)
    assert torch.all(w1[[1, 5]] == 0) and w1[[0, 2, 3, 4, 6, 7]].abs().sum() > 0


# ---------------------------------------------------------------------------------------- per-client recipes
class Stragglers(fl.Algorithm):
    """Client k does 1 + (k + r) % 3 local steps in round r; client 0 is an anchor with batch 16."""

    def recipe(self, client: int, round_idx: int, base: fl.LocalRecipe,
               client_state: dict[str, torch.Tensor]) -> fl.LocalRecipe:
        return base.with_(steps=1 + (client + round_idx) % 3, batch_size=16 if client == 0 else base.batch_size)


def test_per_client_per_round_recipes_are_decided_at_run_time(h) -> None:
    sizes: dict[int, set[int]] = {}

    def loss(model: nn.Module, batch: tuple, ctx: fl.LocalContext) -> torch.Tensor:
        sizes.setdefault(int(ctx.client), set()).add(len(batch[1]))
        return h.ce(model, batch)

    sim = fl.FederatedSimulator(h.mlp(), loss, h.federation(3), recipe=fl.LocalRecipe(steps=1, batch_size=4),
                                algorithm=Stragglers())
    hist = sim.run(2)
    assert [r.steps for r in hist.rounds] == [{0: 1, 1: 2, 2: 3}, {0: 2, 1: 3, 2: 1}]
    assert sizes == {0: {16}, 1: {4}, 2: {4}}


# ---------------------------------------------------------------------------------------- personalisation
class ClusterDownlink(fl.Algorithm):
    """Two clusters (even / odd clients) with one server model each: a per-client downlink, per-cluster FedAvg."""

    def init_server_state(self, global_vec: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"m0": global_vec.clone(), "m1": global_vec.clone()}

    def downlink(self, global_vec: torch.Tensor, server_state: dict[str, torch.Tensor], client: int) -> torch.Tensor:
        return server_state[f"m{client % 2}"]

    def aggregate(self, global_vec, server_state, messages, weights, info) -> torch.Tensor:
        for c in (0, 1):
            rows = [i for i, k in enumerate(info.clients) if k % 2 == c]
            if rows:
                w = weights[rows] / weights[rows].sum()
                server_state[f"m{c}"] = server_state[f"m{c}"] + fl.weighted_mean(messages["delta"][rows], w)
        return (server_state["m0"] + server_state["m1"]) / 2

    def personal_weights(self, global_vec, own, client, client_state) -> torch.Tensor:
        return own  # the engine composes global + local head; the cluster model is below


def _skewed(h, clients: int = 6) -> tuple[fl.FederatedData, list[torch.utils.data.TensorDataset]]:
    """Each client sees mostly two of three classes (its own test split likewise)."""
    ds = h.blobs(600, classes=3, seed=1)
    y = ds.tensors[1].numpy()
    parts = fl.dirichlet(y, clients, 0.2, seed=0, min_size=20)
    train_parts, tests = [], []
    for p in parts:
        half = len(p) // 2
        train_parts.append(p[:half])
        tests.append(torch.utils.data.TensorDataset(*(t[p[half:]] for t in ds.tensors)))
    return fl.FederatedData.partitioned(ds, train_parts), tests


def test_personalised_models_and_per_client_evaluation(h) -> None:
    data, tests = _skewed(h)

    def acc(model: nn.Module, client: int) -> dict[str, float]:
        x, y = tests[client].tensors
        return {"acc": float((model(x).argmax(1) == y).float().mean())}

    sim = fl.FederatedSimulator(h.mlp(), h.ce, data, recipe=fl.LocalRecipe(steps=5, batch_size=16, lr=0.2),
                                roles={"2": "local"}, client_eval_fn=acc)
    rec = sim.run(6).rounds[-1]
    per = rec.client_metrics
    assert sorted(per) == list(range(6)) and set(per[0]) == {"global/acc", "personal/acc"}
    personal = [per[k]["personal/acc"] for k in range(6)]
    assert rec.metrics["personal/acc_mean"] == pytest.approx(np.mean(personal))
    assert rec.metrics["personal/acc_p10"] == pytest.approx(np.percentile(personal, 10))
    assert rec.metrics["global/acc_p10"] <= rec.metrics["global/acc_mean"]
    assert rec.metrics["personal/acc_mean"] > rec.metrics["global/acc_mean"] + 0.1  # local heads fit the skew


def test_per_client_downlink_sends_each_cluster_its_model(h) -> None:
    sim = fl.FederatedSimulator(h.mlp(), h.ce, h.federation(4), recipe=fl.LocalRecipe(steps=3, lr=0.3),
                                algorithm=ClusterDownlink())
    sim.run(2)
    m0, m1 = sim.server_state["m0"], sim.server_state["m1"]
    assert not torch.allclose(m0, m1)
    assert torch.allclose(sim.global_vec, (m0 + m1) / 2)
    only_even = fl.FederatedSimulator(h.mlp(), h.ce, h.federation(4), recipe=fl.LocalRecipe(steps=3, lr=0.3),
                                      algorithm=ClusterDownlink(), sampler=fl.CustomSampler(lambda r, n, s: [0, 2]))
    only_even.run(2)
    assert torch.allclose(only_even.server_state["m0"], m0)  # cluster 0 never saw cluster 1's models


# ---------------------------------------------------------------------------------------- server compute, data
class ServerFineTune(fl.Algorithm):
    """After FedAvg, the server takes one SGD step (lr 0.5) on public data it holds (server-side distillation
    or synthesis would sit here), and every round each client's pool grows by 5 samples (active learning)."""

    def __init__(self, public: tuple[torch.Tensor, torch.Tensor], ce) -> None:
        super().__init__()
        self.public, self.ce = public, ce
        self.before: torch.Tensor | None = None

    def init_client_state(self, client: int, global_vec: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"pool": torch.tensor([5.0])}

    def client_indices(self, client, round_idx, indices, client_state) -> np.ndarray:
        n = int(client_state["pool"].item())
        client_state["pool"] += 5  # what the client labels this round becomes usable next round
        return indices[:n]

    def server_step(self, server: fl.ServerView) -> None:
        cohort = server.cohorts["default"]
        self.before = cohort.global_vec.clone()
        model = server.model()
        model.zero_grad()
        self.ce(model, self.public).backward()
        grad = torch.cat([p.grad.reshape(-1) for p in model.parameters()])
        cohort.global_vec = cohort.global_vec - 0.5 * grad


def test_server_side_compute_and_client_data_that_grows(h) -> None:
    public = h.blobs(30, seed=7).tensors
    alg = ServerFineTune(public, h.ce)
    used: dict[int, list[int]] = {}

    def loss(model: nn.Module, batch: tuple, ctx: fl.LocalContext) -> torch.Tensor:
        used.setdefault(ctx.round_idx, []).append(int(ctx.num_samples))
        return h.ce(model, batch)

    sim = fl.FederatedSimulator(h.mlp(), loss, h.federation(2), recipe=fl.LocalRecipe(steps=1, batch_size=64),
                                algorithm=alg)
    sim.round()
    model = sim.model_with(alg.before)
    model.zero_grad()
    h.ce(model, public).backward()
    grad = torch.cat([p.grad.reshape(-1) for p in model.parameters()])
    assert torch.allclose(sim.global_vec, alg.before - 0.5 * grad, atol=1e-6)
    sim.run(2)
    assert used == {0: [5, 5], 1: [10, 10], 2: [15, 15]}
    sim.set_client_indices(0, np.arange(3))  # the server may also change what a client holds
    sim.round()
    assert used[3] == [3, 20]


# ---------------------------------------------------------------------------------------- architectures, reps
class Prototypes(fl.Algorithm):
    """FedProto-style: models stay local (different architectures); clients send per-class mean embeddings
    (raw messages), the server averages them and sends the table back as a payload."""

    raw_messages = frozenset({"protos", "counts"})

    def __init__(self, classes: int, dim: int) -> None:
        super().__init__()
        self.classes, self.dim = classes, dim

    def message_sizes(self, num_params: int) -> dict[str, int]:
        return {"protos": self.classes * self.dim, "counts": self.classes}

    def init_server_state(self, global_vec: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"protos": torch.zeros(self.classes * self.dim)}

    def payload(self, server_state, client) -> dict[str, torch.Tensor]:
        return {"protos": server_state["protos"]}

    def message(self, ctx: fl.LocalContext) -> dict[str, torch.Tensor]:
        x, y = ctx.scratch["last_batch"]
        with torch.no_grad():
            z = ctx.model.embed(x)
        sums = torch.zeros(self.classes, self.dim).index_add_(0, y, z)
        counts = torch.bincount(y, minlength=self.classes).float()
        return {"protos": (sums / counts.clamp_min(1)[:, None]).reshape(-1), "counts": counts}

    def aggregate(self, global_vec, server_state, messages, weights, info) -> torch.Tensor:
        return global_vec  # no weights are averaged

    def server_step(self, server: fl.ServerView) -> None:
        protos = torch.stack([r.message["protos"].reshape(self.classes, self.dim) for r in server.replies])
        counts = torch.stack([r.message["counts"] for r in server.replies])
        table = (protos * counts[:, :, None]).sum(0) / counts.sum(0).clamp_min(1)[:, None]
        for c in server.cohorts.values():
            c.server_state["protos"] = table.reshape(-1)
        server.extra["table"] = table


class Encoder(nn.Module):
    def __init__(self, d_in: int, hidden: int, seed: int) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.body = nn.Sequential(nn.Linear(d_in, hidden), nn.Tanh(), nn.Linear(hidden, 4))
        self.head = nn.Linear(4, 3)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))


def test_clients_of_two_architectures_exchange_representations_not_weights(h) -> None:
    image = h.blobs(120, d=6, seed=2)
    text = torch.utils.data.TensorDataset(torch.cat([image.tensors[0], image.tensors[0] ** 2], 1), image.tensors[1])
    data = fl.FederatedData(datasets=(image, image, text, text), indices=tuple(fl.iid(120, 4, 0)))

    def loss(model: nn.Module, batch: tuple, ctx: fl.LocalContext) -> torch.Tensor:
        ctx.scratch["last_batch"] = batch
        z = model.embed(batch[0])
        target = ctx.payload["protos"].reshape(3, 4)[batch[1]]
        return nn.functional.cross_entropy(model.head(z), batch[1]) + 0.1 * ((z - target) ** 2).mean()

    models = {"image": Encoder(6, 16, 0), "text": Encoder(12, 8, 1)}
    alg = Prototypes(3, 4)
    sim = fl.FederatedSimulator(models, loss, data, recipe=fl.LocalRecipe(steps=2, batch_size=30),
                                algorithm=alg, cohort_of=["image", "image", "text", "text"],
                                roles={"image": {"": "local"}, "text": {"": "local"}})
    starts = {n: c.global_vec.clone() for n, c in sim.cohorts.items()}
    rec = sim.run(2).rounds[-1]
    assert rec.bytes_up == 4 * (3 * 4 + 3) * 4  # four clients, prototypes + counts in float32, no weights
    assert rec.bytes_down == 4 * 3 * 4 * 4  # the table only: local models never travel
    for name, c in sim.cohorts.items():
        assert torch.equal(c.global_vec, starts[name])
    assert sim.cohorts["image"].layout.numel != sim.cohorts["text"].layout.numel
    assert not torch.equal(sim.client_model(0), sim.client_model(1))  # each client keeps its own model
    assert torch.equal(sim.server_state["protos"], sim.cohorts["text"].server_state["protos"])
    assert sim.server_state["protos"].abs().sum() > 0
