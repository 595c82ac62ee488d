"""Decentralised training across processes (torch.distributed, gloo, 127.0.0.1) gives the simulator's weights."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from zoo.engines import federated as fl
from zoo.engines.federated.distributed import GossipTask, launch_local

pytestmark = pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed not built")


def _task(**kw) -> GossipTask:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(80, 6, generator=g)
    y = (x[:, 0] > 0).long()
    data = fl.FederatedData.partitioned(torch.utils.data.TensorDataset(x, y), fl.dirichlet(y.numpy(), 4, 0.5, 0, 5))

    def model_fn() -> nn.Module:
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 2))

    def loss(m: nn.Module, b: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        return nn.functional.cross_entropy(m(b[0]), b[1])

    recipe = fl.LocalRecipe(steps=2, batch_size=8, lr=0.1, optimizer="adam")
    return GossipTask(model_fn, loss, data, kw.pop("topology", fl.ring(4)), recipe, **kw)


def _simulate(task: GossipTask, rounds: int, history: int = 0) -> torch.Tensor:
    sim = fl.DecentralizedSimulator(task.model_fn(), task.loss_fn, task.data, task.topology, recipe=task.recipe,
                                    seed=task.seed, codec=task.codec, byzantine=task.byzantine,
                                    node_combiner=task.node_combiner, gossip_steps=task.gossip_steps,
                                    history=history)
    sim.run(rounds)
    return sim.live


def test_four_processes_match_two_rounds_of_ring_dpasgd() -> None:
    task = _task()
    got = launch_local(task, rounds=2, world_size=4)
    expected = _simulate(task, 2)
    assert torch.allclose(torch.stack([got[i] for i in range(4)]), expected, atol=1e-6)
    assert not torch.allclose(expected[0], expected[1])  # a ring does not reach consensus in two rounds


def test_two_processes_with_codec_byzantine_node_combiner_and_stale_links() -> None:
    """Two silos per process; error feedback, a sign-flipping node, median aggregation, two gossip steps."""
    task = _task(codec=fl.ErrorFeedback(fl.TopK(0.5)), byzantine=fl.Byzantine([2], fl.SignFlip()),
                 node_combiner=fl.CoordinateMedian(), gossip_steps=2, topology=fl.complete(4))
    got = launch_local(task, rounds=2, world_size=2)
    assert torch.allclose(torch.stack([got[i] for i in range(4)]), _simulate(task, 2), atol=1e-6)
    overlay = fl.ring(4, directed=True).adjacency
    multigraph = fl.MultigraphTopology(overlay, torch.where(overlay, torch.tensor(2), torch.tensor(1)))
    task = _task(topology=multigraph)  # weak links reuse the model received in the last strong round
    got = launch_local(task, rounds=3, world_size=2)
    assert torch.allclose(torch.stack([got[i] for i in range(4)]), _simulate(task, 3, history=1), atol=1e-6)
