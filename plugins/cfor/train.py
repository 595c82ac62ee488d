"""Training (shared trainer), MCC threshold selection, index building and evaluation for CFOR."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.options import TrainOptions
from zoo_plugins.cfor.config import CFORConfig
from zoo_plugins.cfor.index import CFORIndex
from zoo_plugins.cfor.losses import cfor_loss
from zoo_plugins.cfor.model import CFORModel
from zoo_plugins.cfor.thresholds import mcc_thresholds


def _stack(batch: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    return {k: torch.stack([b[k] for b in batch]) for k in batch[0]}


@torch.no_grad()
def predict_dataset(model: CFORModel, data: Dataset, batch_size: int = 64,
                    true_region: bool = False) -> dict[str, np.ndarray]:
    """Run :meth:`CFORModel.predict` over a dataset; returns stacked numpy arrays with the labels.

    ``true_region``: compute each descriptor with the category network of the item's labelled region (what
    indexing by true labels needs) instead of its predicted region's.
    """
    was = model.training
    model.eval()
    out: dict[str, list[np.ndarray]] = {}
    for batch in DataLoader(data, batch_size=batch_size, collate_fn=_stack):
        pred = model.predict(batch["image"], region=batch["region"] if true_region else None)
        for key in ("region", "category", "category_prob", "attribute_scores", "attributes", "descriptor"):
            out.setdefault(key, []).append(pred[key].numpy())
        for key in ("region", "category", "attributes"):
            out.setdefault(f"true_{key}", []).append(batch[key].numpy())
    model.train(was)
    return {k: np.concatenate(v) for k, v in out.items()}


def choose_thresholds(model: CFORModel, data: Dataset) -> np.ndarray:
    """Set the per-attribute MCC-optimal thresholds from the training data; returns the best MCC per attribute."""
    pred = predict_dataset(model, data)
    thresholds, best = mcc_thresholds(pred["attribute_scores"], pred["true_attributes"])
    model.thresholds.copy_(torch.from_numpy(thresholds).float())
    return best


def train(model: CFORModel, data: Dataset, config: CFORConfig, options: TrainOptions,
          callbacks: Any = ()) -> TrainResult:
    """Train every sub-model, then choose the MCC thresholds on the training data."""
    recipe = Recipe(steps=config.steps, batch_size=config.batch_size, lr=config.lr,
                    weight_decay=config.weight_decay, schedule="cosine", warmup_steps=min(20, config.steps // 10))
    result = fit(model, data, cfor_loss, recipe, options, collate=_stack, callbacks=callbacks)
    best = choose_thresholds(model, data)
    result.metrics["mean_train_mcc"] = float(best.mean())
    return result


def build_index(model: CFORModel, data: Dataset, ids: np.ndarray | None = None,
                meta: list[dict[str, Any]] | None = None, use_labels: bool = False) -> CFORIndex:
    """Index a database: every item goes to the leaf its predicted (or, with ``use_labels``, true) category
    belongs to, with its descriptor (computed by that leaf's region's category network) and thresholded
    attribute bits. With predicted labels the leaf's region is the predicted region, whose network computed the
    descriptor; with true labels the descriptor is recomputed by the true region's network."""
    pred = predict_dataset(model, data, true_region=use_labels)
    onto = model.ontology
    cats = pred["true_category"] if use_labels else pred["category"]
    leaves = [(onto.region_of(onto.categories[c]), onto.categories[c]) for c in cats]
    spaces = [f"category/{onto.region_names[int(r)]}" for r in
              (pred["true_region"] if use_labels else pred["region"])]
    index = CFORIndex(onto, model.descriptor_dim, model.config.index_factory)
    ids = np.arange(len(cats)) if ids is None else ids
    index.add(ids, pred["descriptor"], pred["attributes"], leaves, meta, spaces=spaces)
    return index
