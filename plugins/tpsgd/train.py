"""Training tpSGD through the shared trainer: per-layer SGD optimizers stepping right after each layer's local
backward (engine mode (c), forward-only), or end-to-end back-propagation of the same network (``rule="bp"``)."""
from __future__ import annotations

from typing import Any

import torch
from torch.nn import functional as F

from zoo.engines.local_learning import ModuleOptimizers
from zoo.engines.local_learning.forward_only import forward_only_step
from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.options import TrainOptions
from zoo_plugins.tpsgd.config import TpSGDConfig
from zoo_plugins.tpsgd.losses import hidden_rule, output_rule
from zoo_plugins.tpsgd.model import TpSGDNet


def recipe_of(config: TpSGDConfig) -> Recipe:
    """SGD with momentum at a constant learning rate."""
    return Recipe(steps=config.steps, batch_size=config.batch_size, lr=config.lr, optimizer="sgd",
                  momentum=config.momentum)


def layer_optimizers(net: TpSGDNet, config: TpSGDConfig) -> ModuleOptimizers:
    """One SGD optimizer per layer (each layer learns on its own)."""
    return ModuleOptimizers([torch.optim.SGD(layer.parameters(), lr=config.lr, momentum=config.momentum)
                             for layer in net.layers])


def tpsgd_backward_fn(net: TpSGDNet) -> Any:
    """A trainer ``backward_fn``: each layer's local loss back-propagates inside the layer, then its optimizer steps."""
    kind = net.config.local_loss
    rules = [hidden_rule(p, kind, net.config.rnn_target) for p in net.projections] + [output_rule()]

    def backward_fn(model: TpSGDNet, batch: Any, tools: Any) -> dict[str, float]:
        images, labels = batch
        optimizers = tools.optimizer
        logs = forward_only_step(model.layers, model.prepare(images), labels, rules, backward=tools.backward,
                                 step=lambda k: tools.step(optimizers[k]), autocast=tools.autocast)
        logs["loss"] = logs[f"layer_loss_{len(model.layers) - 1}"]
        return logs

    return backward_fn


def accuracy(net: TpSGDNet, data: Any, batch_size: int = 512) -> float:
    """Top-1 accuracy on a dataset of ``(image, label)``."""
    loader = torch.utils.data.DataLoader(data, batch_size=batch_size)
    was_training = net.training
    net.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            correct += int((net(x).argmax(1) == y).sum())
            total += len(y)
    net.train(was_training)
    return correct / max(1, total)


def evaluate(model: TpSGDNet, data: Any) -> dict[str, float]:
    """The ``evaluate`` hook: top-1 test accuracy."""
    return {"accuracy": accuracy(model, data)}


def train(model: TpSGDNet, data: Any, config: TpSGDConfig, options: TrainOptions, callbacks: Any = ()
          ) -> TrainResult:
    """tpSGD (per-layer optimizers, forward-only) or BP, by ``config.rule``; ``data``: train set or (train, test)."""
    train_set, test_set = data if isinstance(data, tuple) else (data, None)
    eval_fn = (lambda m: {"accuracy": accuracy(m, test_set)}) if test_set is not None else None
    model.train()
    if config.rule == "bp":
        def loss_fn(net: TpSGDNet, batch: Any) -> torch.Tensor:
            return F.cross_entropy(net(batch[0]), batch[1])

        return fit(model, train_set, loss_fn, recipe_of(config), options, eval_fn=eval_fn, callbacks=callbacks)
    return fit(model, train_set, None, recipe_of(config), options, optimizer=layer_optimizers(model, config),
               backward_fn=tpsgd_backward_fn(model), eval_fn=eval_fn, callbacks=callbacks)
