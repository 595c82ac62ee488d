"""The Flower adapter (ServerApp/ClientApp, Ray simulation) gives the simulator's weights for FedAvg (with a
partial sampler, an error-feedback codec and a vanishing client), SCAFFOLD (per-client state and payload) and a
personalised method (local heads, per-client payload, context-aware loss).

One Flower simulation runs the three tasks in turn (one Ray start-up). Skipped only when flwr is not installed
(the ``fl`` extra: ``flwr[simulation]==1.41.0``).
"""
from __future__ import annotations

import pytest
import torch
from torch import nn

pytest.importorskip("flwr")

from zoo.engines import federated as fl  # noqa: E402
from zoo.engines.federated.flower import FlowerTask, run_flower_simulation  # noqa: E402


def _data() -> fl.FederatedData:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(120, 6, generator=g)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    return fl.FederatedData.partitioned(torch.utils.data.TensorDataset(x, y), fl.dirichlet(y.numpy(), 4, 1.0, 0, 5))


def model_fn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 2))


def loss(m: nn.Module, b: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    return nn.functional.cross_entropy(m(b[0]), b[1])


def weighted_loss(m: nn.Module, b: tuple[torch.Tensor, torch.Tensor], ctx: fl.LocalContext) -> torch.Tensor:
    """The client's payload reaches its loss (a per-client weight sent by the server)."""
    return ctx.payload["weight"][0] * nn.functional.cross_entropy(m(b[0]), b[1])


class PersonalWeights(fl.Algorithm):
    """FedAvg with a per-client payload (each client gets its own loss weight)."""

    def payload(self, server_state: dict[str, torch.Tensor], client: int) -> dict[str, torch.Tensor]:
        return {"weight": torch.tensor([1.0 + 0.5 * client])}


def _tasks() -> list[FlowerTask]:
    scaffold = pytest.importorskip("zoo_plugins.fl_baselines.algorithms").Scaffold
    recipe = fl.LocalRecipe(steps=3, batch_size=8, lr=0.1)
    data = _data()
    return [
        FlowerTask(model_fn, loss, recipe, fl.Algorithm(), data, seed=1, sampler=fl.UniformFraction(0.75),
                   uplink=fl.ErrorFeedback(fl.TopK(0.3)), dropout=fl.Dropout(fn=lambda r, c: (r, c) == (1, 3))),
        FlowerTask(model_fn, loss, recipe, scaffold(weighting="uniform"), data, seed=2),
        FlowerTask(model_fn, weighted_loss, fl.LocalRecipe(steps=2, batch_size=8, lr=0.1, optimizer="adam"),
                   PersonalWeights(), data, seed=3, roles={"2": "local"}),
    ]


def _simulate(task: FlowerTask, rounds: int) -> fl.FederatedSimulator:
    sim = fl.FederatedSimulator(task.model_fn(), task.loss_fn, task.data, recipe=task.recipe,
                                algorithm=task.algorithm, seed=task.seed, sampler=task.sampler, uplink=task.uplink,
                                dropout=task.dropout, roles=task.roles)
    sim.run(rounds)
    return sim


@pytest.mark.slow
def test_fedavg_scaffold_and_a_personalised_method_match_the_simulator_through_flower() -> None:
    tasks = _tasks()
    results = run_flower_simulation(tasks, rounds=2)
    for task, res in zip(tasks, results):
        sim = _simulate(task, 2)
        assert torch.equal(res.global_vec, sim.global_vec), type(task.algorithm).__name__
        assert [r.clients for r in res.history.rounds] == [r.clients for r in sim.history.rounds]
        assert [r.vanished for r in res.history.rounds] == [r.vanished for r in sim.history.rounds]
        assert [(r.bytes_up, r.bytes_down) for r in res.history.rounds] == \
               [(r.bytes_up, r.bytes_down) for r in sim.history.rounds]
        for k in range(4):
            assert torch.equal(res.personal[k], sim.client_model(k)), k
    fedavg = results[0].history.rounds
    assert len(fedavg[0].clients) == 3 and fedavg[1].vanished == [3]  # the sampler and the fault were honoured
    local = fl.layout_of(model_fn(), {"2": "local"}).indices("local")
    assert not torch.equal(results[2].personal[0][local], results[2].personal[1][local])  # personal heads
