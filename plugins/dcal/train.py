"""DCAL training on the shared trainer (SA + GLCA + PWCA with uncertainty-weighted losses), data and evaluation.

FGVC: cross-entropy per branch. Re-ID: cross-entropy + batch-hard triplet per branch, P x K batches (``instances``
images per identity). Each training image gets a random other image of the batch as its PWCA distractor.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch.nn import functional as F

from zoo.engines.retrieval.data.landmarks import make_landmarks
from zoo.engines.retrieval.data.reid import make_reid, make_reid_benchmark
from zoo.engines.retrieval.losses import batch_hard_triplet
from zoo.engines.retrieval.samplers import GroupedDataset, collate_groups, pk_groups
from zoo.engines.retrieval.tasks import encode_all, evaluate_reid
from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.errors import DataError
from zoo.options import TrainOptions
from zoo_plugins.dcal.config import DCALConfig
from zoo_plugins.dcal.model import DCAL

BRANCHES = ("sa", "glca", "pwca")


def make_data(config: DCALConfig, source: str, split: str) -> Any:
    """``synthetic``: fine-grained classes (views of landmark-like scenes) or pedestrians for re-ID."""
    if source != "synthetic":
        raise DataError(f"data source {source!r} is not available: only 'synthetic' is generated here")
    h, w = config.image_size
    if config.task == "fgvc":
        per_class = config.train_per_class if split == "train" else config.test_per_class
        data = make_landmarks(config.num_classes, per_class, size=h, seed=0 if split == "train" else 1)
        return data
    if split == "train":
        return make_reid(config.num_classes, 8, 4, (h, w), occlusion=0.2, seed=0)
    return make_reid_benchmark(12, 4, 2, query_occlusion=0.3, size=(h, w), seed=1)


def partners(batch_size: int) -> torch.Tensor:
    """A random distractor for each image: another image of the same batch (a cyclic shift of the order)."""
    shift = int(torch.randint(1, max(batch_size, 2), ()))
    return (torch.arange(batch_size) + shift) % batch_size


def dcal_loss(model: DCAL, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
    """Each branch's loss (CE; + triplet for re-ID), combined by uncertainty weighting."""
    if isinstance(batch, dict):
        images, labels = batch["image"], batch["pid"]
    else:
        images, labels = batch[0], batch[1]
    out = model(images, partners(len(images)))
    losses, logs = [], {}
    for name in BRANCHES:
        if f"{name}_logits" not in out:
            continue
        loss = F.cross_entropy(out[f"{name}_logits"], labels)
        if model.config.task == "reid":
            loss = loss + batch_hard_triplet(out[f"{name}_token"], labels, model.config.triplet_margin)
        losses.append(loss)
        logs[f"{name}_loss"] = float(loss.detach())
    return model.weighting(losses), logs


def train(model: DCAL, data: Any, config: DCALConfig, options: TrainOptions, callbacks: Any = ()) -> TrainResult:
    """Train every branch jointly (PWCA adds no parameters: it trains the SA blocks)."""
    batch = config.batch_size
    if config.task == "reid":
        groups = pk_groups(data.pids.numpy(), config.instances, rounds=8, seed=int(options.seed))
        data, batch = GroupedDataset(data, groups), max(1, config.batch_size // config.instances)
    recipe = Recipe(steps=config.steps, batch_size=batch, lr=config.lr, optimizer=config.optimizer,
                    weight_decay=config.weight_decay, schedule="cosine", warmup_steps=min(10, config.steps // 10),
                    grad_clip=5.0)
    collate = collate_groups if config.task == "reid" else None
    return fit(model, data, dcal_loss, recipe, options, collate=collate, callbacks=callbacks)


def evaluate(model: DCAL, data: Any, options: Mapping[str, Any]) -> dict[str, float]:
    """FGVC: top-1 accuracy of SA + GLCA (and of each branch). Re-ID: CMC and mAP with SA+GLCA tokens."""
    if model.config.task == "reid":
        return evaluate_reid(model, model.descriptor, data)
    images, labels = data.images, data.labels

    def encode(x: torch.Tensor) -> torch.Tensor:
        out = model(x)
        parts = [out["sa_logits"].softmax(-1)] + ([out["glca_logits"].softmax(-1)] if "glca_logits" in out else [])
        return torch.cat(parts, dim=1)

    probs = encode_all(model, encode, images)
    n = model.config.num_classes
    result = {"top1": float(((probs[:, :n] + (probs[:, n:] if probs.shape[1] > n else 0)).argmax(1) == labels)
                            .float().mean()),
              "top1_sa": float((probs[:, :n].argmax(1) == labels).float().mean())}
    if probs.shape[1] > n:
        result["top1_glca"] = float((probs[:, n:].argmax(1) == labels).float().mean())
    return result
