"""Training and evaluation of the local-learning methods through the shared trainer."""
from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset

from zoo.engines.local_learning import LocalNet, local_backward_fn, per_module_optimizers
from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.options import TrainOptions
from zoo_plugins.local_learning.config import LocalLearningConfig
from zoo_plugins.local_learning.model import update_momentum_copies


def recipe_of(config: LocalLearningConfig) -> Recipe:
    """The shared trainer's recipe for a config (SGD, cosine with warm-up, optional clipping and AMP)."""
    return Recipe(steps=config.steps, batch_size=config.batch_size, lr=config.lr, optimizer="sgd",
                  momentum=config.momentum, weight_decay=config.weight_decay, schedule=config.schedule,
                  warmup_steps=config.warmup_steps, grad_clip=config.grad_clip, amp=config.amp)


def make_optimizer(net: LocalNet, config: LocalLearningConfig) -> torch.optim.Optimizer:
    """SGD-Nesterov over every trainable parameter (the reference codes' choice), or one per module (mode b)."""
    def sgd(params: list[torch.nn.Parameter]) -> torch.optim.Optimizer:
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, nesterov=True,
                               weight_decay=config.weight_decay)

    if config.mode == "per_module":
        return per_module_optimizers(net, sgd)
    return sgd([p for p in net.parameters() if p.requires_grad])


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
    """Train in the config's engine mode through the shared trainer (every local loss gets its NaN check,
    mixed precision and clipping); MAN's EMA copies move at their configured update point."""
    net = model
    train_set, test_set = data if isinstance(data, tuple) else (data, None)
    eval_fn = (lambda m: {"accuracy": accuracy(m, test_set)}) if test_set is not None else None
    net.train()
    return fit(net, train_set, None, recipe_of(config), options, optimizer=make_optimizer(net, config),
               backward_fn=local_backward_fn(config.mode, after_step=update_momentum_copies), eval_fn=eval_fn,
               callbacks=callbacks)
