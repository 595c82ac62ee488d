"""NHL's source training (back-propagation on clean data, through the shared trainer) and its evaluation on the
corrupted stream: source accuracy against accuracy after online test-time adaptation."""
from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch.nn import functional as F

from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.options import TrainOptions
from zoo_plugins.nhl.adapt import adapt_stream
from zoo_plugins.nhl.config import NHLConfig
from zoo_plugins.nhl.model import NHLNet


def train(model: NHLNet, data: Any, config: NHLConfig, options: TrainOptions, callbacks: Any = ()) -> TrainResult:
    """Train the source model on clean labelled data (Adam, cross-entropy)."""
    def loss_fn(net: NHLNet, batch: Any) -> torch.Tensor:
        return F.cross_entropy(net(batch[0]), batch[1])

    recipe = Recipe(steps=config.source_steps, batch_size=config.batch_size, lr=config.source_lr, optimizer="adam")
    model.train()
    result = fit(model, data, loss_fn, recipe, options, callbacks=callbacks)
    model.eval()
    return result


def stream_tensors(data: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Images and labels of a stream dataset, in stream order."""
    if hasattr(data, "tensors"):
        return data.tensors[0], data.tensors[1]
    xs, ys = zip(*(data[i] for i in range(len(data))))
    return torch.stack(xs), torch.as_tensor(ys)


def evaluate(model: NHLNet, data: Any, config: NHLConfig) -> dict[str, float]:
    """Accuracy on the stream without adaptation (``source_accuracy``) and with the config's online adaptation
    (``accuracy``); labels are used for scoring only."""
    images, labels = stream_tensors(data)
    model.eval()
    with torch.no_grad():
        source = float((model(images).argmax(1) == labels).float().mean())
    adapted = float((adapt_stream(model, images, config) == labels).float().mean())
    return {"accuracy": adapted, "source_accuracy": source}


def ablation(model: NHLNet, data: Any, config: NHLConfig) -> dict[str, float]:
    """Stream accuracy of every adaptation (source, norm statistics, Hebbian, modulator, NHL)."""
    images, labels = stream_tensors(data)
    out = {}
    for adapt in ("source", "norm", "hebbian", "modulator", "nhl"):
        preds = adapt_stream(model, images, dataclasses.replace(config, adapt=adapt))
        out[adapt] = float((preds == labels).float().mean())
    return out
