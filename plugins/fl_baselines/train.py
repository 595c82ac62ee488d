"""Federated training of a baseline on an :class:`FLData` split with the shared federated engine."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from zoo.io import atomic_write_json
from zoo.engines import federated as fl
from zoo.options import TrainOptions
from zoo_plugins.fl_baselines.algorithms import algorithm_for
from zoo_plugins.fl_baselines.config import FLBaselineConfig
from zoo_plugins.fl_baselines.data import FLData


def loss_fn(model: nn.Module, batch: Any) -> torch.Tensor:
    """Cross-entropy of a ``(images, labels)`` batch."""
    x, y = batch
    return F.cross_entropy(model(x), y)


def evaluate(model: nn.Module, data: FLData) -> dict[str, float]:
    """The ``evaluate`` hook: top-1 accuracy of the global model."""
    return {"accuracy": accuracy(model, data)}


def accuracy(model: nn.Module, data: FLData) -> float:
    """Top-1 accuracy on a split."""
    model.eval()
    with torch.no_grad():
        return float((model(data.x).argmax(-1) == data.y).float().mean())


def partition(cfg: FLBaselineConfig, labels: torch.Tensor) -> list:
    """The clients' index sets per the config (deterministic in ``cfg.seed``)."""
    y = labels.numpy()
    if cfg.partition == "iid":
        return fl.iid(len(y), cfg.num_clients, cfg.seed)
    if cfg.partition == "shards":
        return fl.label_shards(y, cfg.num_clients, cfg.shards_per_client, cfg.seed)
    return fl.dirichlet(y, cfg.num_clients, cfg.alpha, cfg.seed, min_size=2)


def make_simulator(model: nn.Module, data: FLData, cfg: FLBaselineConfig, test: FLData | None = None,
                   **kw: Any) -> fl.FederatedSimulator:
    """A :class:`FederatedSimulator` for the config (extra keyword arguments go to the simulator)."""
    parts = partition(cfg, data.y)
    recipe = fl.LocalRecipe(steps=cfg.local_steps, epochs=cfg.local_epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                            momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    sampler = fl.AllClients() if cfg.fraction >= 1.0 else fl.UniformFraction(cfg.fraction)
    eval_fn = (lambda m: {"accuracy": accuracy(m, test)}) if test is not None else None
    return fl.FederatedSimulator(model, loss_fn, fl.FederatedData.partitioned(data.dataset(), parts), recipe=recipe,
                                 algorithm=algorithm_for(cfg), sampler=sampler, seed=cfg.seed, eval_fn=eval_fn, **kw)


def train(model: nn.Module, data: Any, config: FLBaselineConfig, options: TrainOptions) -> Any:
    """Run ``options.steps or cfg.rounds`` rounds; the model ends holding the global weights.

    The federation (partition, client sampling, batches) is seeded by ``cfg.seed``; the initial model is whatever
    ``model`` holds (seed torch before ``zoo.build`` for a reproducible start). ``options.out_dir`` receives
    ``history.json`` (per-round records: clients, bytes, loss, accuracy).

    ``data`` is the train :class:`FLData`, or a ``(train, test)`` pair to evaluate every ``cfg.eval_every`` rounds.
    """
    cfg = config
    from zoo.engines.trainer import TrainResult

    train_data, test_data = data if isinstance(data, tuple) else (data, None)
    rounds = options.steps if options.steps is not None else cfg.rounds
    sim = make_simulator(model, train_data, cfg, test_data)
    history = sim.run(rounds, eval_every=cfg.eval_every)
    sim.global_model()
    metrics = dict(history.rounds[-1].metrics) if history.rounds else {}
    metrics["bytes_total"] = float(history.total_bytes)
    out_dir = Path(options.out_dir) if options.out_dir else None
    if out_dir is not None:
        atomic_write_json(out_dir / "history.json", history.to_json())
    return TrainResult(history=history.series(), metrics=metrics, steps=rounds, out_dir=out_dir)
