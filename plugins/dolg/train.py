"""DOLG training (ArcFace through the shared trainer), synthetic landmark data and revisited-protocol evaluation."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from zoo.engines.retrieval.tasks import evaluate_landmarks, landmark_source, margin_loss
from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.options import TrainOptions
from zoo_plugins.dolg.config import DOLGConfig
from zoo_plugins.dolg.model import DOLG


def make_data(config: DOLGConfig, source: str, split: str) -> Any:
    """``synthetic`` landmarks: training views (``train``) or a revisited-style benchmark (``test``)."""
    return landmark_source(source, split, classes=config.train_classes, per_class=config.per_class,
                           size=config.image_size, test_classes=config.test_classes)


def recipe(config: DOLGConfig) -> Recipe:
    """SGD (momentum 0.9), cosine schedule with linear warm-up, the config's lr, weight decay and batch."""
    return Recipe(steps=config.steps, batch_size=config.batch_size, lr=config.lr, optimizer="sgd",
                  weight_decay=config.weight_decay, schedule="cosine", warmup_steps=config.warmup_steps,
                  grad_clip=5.0)


def train(model: DOLG, data: Any, config: DOLGConfig, options: TrainOptions, callbacks: Any = ()) -> TrainResult:
    """Train descriptor and ArcFace head end to end on image-level labels."""
    rec = recipe(config)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=rec.lr, momentum=rec.momentum, weight_decay=rec.weight_decay,
                                nesterov=config.nesterov)
    return fit(model, data, margin_loss, rec, options, callbacks=callbacks, optimizer=optimizer)


def evaluate(model: DOLG, data: Any, options: Mapping[str, Any]) -> dict[str, float]:
    """Revisited easy/medium/hard mAP and recall@k of ``data`` (a benchmark from ``make_data(..., 'test')``)."""
    from zoo.engines.retrieval.index import IndexSpec

    spec = IndexSpec.parse(options["index"]) if options.get("index") else None
    k = int(options.get("k") or 10)
    return evaluate_landmarks(model, model.descriptor, data, ks=sorted({1, 5, k}), index=spec)
