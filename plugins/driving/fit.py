"""``zoo_train`` for the driving plugins: picks DFL/SFL/CLL from the variant and returns a ``TrainResult``."""
from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from zoo_plugins.driving.data import SiloData, SteeringDataset
from zoo_plugins.driving.infer import dataset_tensors, evaluate
from zoo_plugins.driving.topology import num_silos
from zoo_plugins.driving.train import train_centralised, train_federated

from zoo.io import atomic_write_text
from zoo.engines.trainer import TrainResult
from zoo.errors import DataError


def as_silos(data: Any, n: int) -> SiloData:
    """Per-silo data: a :class:`SiloData` as it is; a single dataset is cut into ``n`` contiguous shards (so data
    stored in recording order stays non-IID across silos)."""
    if isinstance(data, SiloData):
        return data
    images, angles = dataset_tensors(data)
    if images.shape[0] < n:
        raise DataError(f"{images.shape[0]} samples cannot be split over {n} silos")
    cuts = torch.linspace(0, images.shape[0], n + 1).round().long().tolist()
    return SiloData([SteeringDataset(images[a:b], angles[a:b]) for a, b in itertools.pairwise(cuts)],
                    name="user")


def run_training(method: str, model: Any, data: Any, config: Any, options: Any,
                 callbacks: Sequence[Any] = ()) -> TrainResult:
    """Train ``model`` in place. ``options.steps`` overrides the number of communication rounds (federated) or
    optimiser steps (CLL). The test split in ``data`` (if any) is evaluated with RMSE/MAE."""
    recipe = config.federated
    silos = as_silos(data, num_silos(recipe.topology))
    image_size = config.image_size
    eval_fn = (lambda m: evaluate(m, silos.test, image_size)) if silos.test is not None else None
    seed = getattr(options, "seed", 0)
    if recipe.scheme == "cll":
        result = train_centralised(method, model, silos.pooled(), config, options, eval_fn=eval_fn)
        if eval_fn is not None:
            result.metrics.update(eval_fn(model))
        return result
    out = train_federated(method, model, silos.silos, config, seed=seed, rounds=getattr(options, "steps", None),
                          eval_fn=eval_fn, progress=bool(getattr(options, "progress", False)),
                          device=getattr(options, "device", "cpu") or "cpu")
    out_dir = Path(options.out_dir) if getattr(options, "out_dir", None) else None
    if out_dir is not None:
        atomic_write_text(out_dir / "history.json", json.dumps(out["history"], indent=2))
    for cb in callbacks:
        if callable(cb):
            cb("on_train_end", {"metrics": out["metrics"], "history": out["history"]})
    return TrainResult(history=out["history"], metrics=out["metrics"], steps=out["rounds"], out_dir=out_dir,
                       extra={"mixing": out["mixing"]})
