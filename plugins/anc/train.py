"""ANC's recipe: train the network (shared trainer, cross-entropy), compress it by automatic neuron clustering,
fine-tune the compressed network; accuracy and parameter counts at each stage."""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.errors import ConfigError
from zoo.options import TrainOptions
from zoo_plugins.anc.compress import CompressionReport, compress
from zoo_plugins.anc.config import ANCConfig
from zoo_plugins.anc.model import ANCNet, num_parameters


def cross_entropy(model: ANCNet, batch: Any) -> torch.Tensor:
    """The classification loss of one batch ``(x, y)``."""
    x, y = batch
    return F.cross_entropy(model(x), y)


@torch.no_grad()
def accuracy(model: ANCNet, data: Any) -> float:
    """Top-1 accuracy of ``model`` on a TensorDataset (eval mode)."""
    was = model.training
    model.eval()
    x, y = data.tensors
    acc = float((model(x).argmax(1) == y).float().mean())
    model.train(was)
    return acc


def fit_epochs(model: ANCNet, data: Any, config: ANCConfig, epochs: int, options: Any = None,
               callbacks: Sequence[Any] = ()) -> TrainResult:
    """``epochs`` epochs of the config's optimiser through the shared trainer."""
    steps = epochs * max(1, math.ceil(len(data) / config.batch_size))
    recipe = Recipe(steps=steps, batch_size=config.batch_size, lr=config.lr, optimizer=config.optimizer,
                    weight_decay=config.weight_decay)
    opts = TrainOptions({**dict(options or {}), "steps": steps, "out_dir": None, "progress": False})
    return fit(model, data, cross_entropy, recipe, opts, callbacks=callbacks)


def train(model: ANCNet, data: Any, config: ANCConfig, options: Any = None,
          callbacks: Sequence[Any] = ()) -> TrainResult:
    """Train for ``config.epochs`` (``options.steps`` overrides the epochs with steps), compress (the model is
    replaced in place by the compressed network and its zoo config updated), fine-tune for
    ``config.finetune_epochs``. Metrics: train accuracy at each stage, parameters before/after, compression
    ratio; ``extra["report"]``: the per-layer clusters."""
    if not hasattr(data, "tensors"):
        raise ConfigError(f"anc trains on a TensorDataset of (x, label) (zoo.make_data), got {type(data).__name__}")
    steps = getattr(options, "steps", None)
    epochs = config.epochs
    if steps is not None:
        epochs = max(1, math.ceil(steps / max(1, math.ceil(len(data) / config.batch_size))))
    first = fit_epochs(model, data, config, epochs, options, callbacks)
    metrics = {"accuracy_original": accuracy(model, data), "params_original": float(num_parameters(model))}
    report = compress(model, config)
    _retag(model, report)
    metrics["accuracy_compressed"] = accuracy(model, data)
    if config.finetune_epochs:
        fit_epochs(model, data, config, config.finetune_epochs, options, callbacks)
    metrics.update(accuracy_finetuned=accuracy(model, data), params_compressed=float(report.params_after),
                   compression_ratio=report.ratio)
    return TrainResult(history=first.history, metrics=metrics, steps=first.steps, extra={"report": report})


def _retag(model: ANCNet, report: CompressionReport) -> None:
    """Keep ``model.zoo`` in step with the compressed architecture (so saving records the new widths)."""
    tag = getattr(model, "zoo", None)
    if tag is not None and report.config is not None:
        from zoo.api import attach

        attach(model, tag.method, tag.variant, report.config)


def evaluate(model: ANCNet, data: Any) -> dict[str, float]:
    """``{"accuracy", "parameters"}`` on a TensorDataset."""
    if not hasattr(data, "tensors"):
        raise ConfigError(f"anc evaluates a TensorDataset, got {type(data).__name__}")
    return {"accuracy": accuracy(model, data), "parameters": float(num_parameters(model))}
