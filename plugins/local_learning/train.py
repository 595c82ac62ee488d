"""Training and evaluation of the local-learning methods through the shared trainer."""
from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset

from zoo.engines.local_learning import LocalNet, local_step
from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.options import TrainOptions
from zoo_plugins.local_learning.config import LocalLearningConfig
from zoo_plugins.local_learning.model import update_momentum_copies


def recipe_of(config: LocalLearningConfig) -> Recipe:
    """The shared trainer's recipe for a config (SGD, cosine with warm-up)."""
    return Recipe(steps=config.steps, batch_size=config.batch_size, lr=config.lr, optimizer="sgd",
                  momentum=config.momentum, weight_decay=config.weight_decay, schedule=config.schedule,
                  warmup_steps=config.warmup_steps)


def make_optimizer(net: LocalNet, config: LocalLearningConfig) -> torch.optim.Optimizer:
    """One SGD-Nesterov optimizer over every trainable parameter (the reference codes' choice)."""
    params = [p for p in net.parameters() if p.requires_grad]
    return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, nesterov=True,
                           weight_decay=config.weight_decay)


def evaluate(model: LocalNet, data: Dataset[Any]) -> dict[str, float]:
    """The ``evaluate`` hook: top-1 test accuracy."""
    return {"accuracy": accuracy(model, data)}


def accuracy(net: LocalNet, dataset: Dataset[Any], batch_size: int = 512) -> float:
    """Top-1 accuracy of the backbone + head (auxiliary networks unused)."""
    from zoo.metrics import accuracy as top1

    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size)
    was_training = net.training
    net.eval()
    logits, labels = [], []
    with torch.no_grad():
        for x, y in loader:
            logits.append(net(x))
            labels.append(y)
    net.train(was_training)
    return float(top1(torch.cat(logits), torch.cat(labels)))


def train(model: LocalNet, data: Any, config: LocalLearningConfig, options: TrainOptions,
          callbacks: Any = ()) -> TrainResult:
    """Train with per-module backward + detach (one optimizer); MAN's EMA copies move after every step."""
    net = model
    train_set, test_set = data if isinstance(data, tuple) else (data, None)

    def step_fn(model: Any, batch: Any, optimizer: torch.optim.Optimizer) -> dict[str, float]:
        x, y = batch
        return local_step(model, (x, y), optimizer, after_step=lambda: update_momentum_copies(model))

    eval_fn = (lambda m: {"accuracy": accuracy(m, test_set)}) if test_set is not None else None
    net.train()
    return fit(net, train_set, None, recipe_of(config), options, optimizer=make_optimizer(net, config),
               step_fn=step_fn, eval_fn=eval_fn, callbacks=callbacks)
