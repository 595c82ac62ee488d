"""BEVPlace training (triplets of BEV images on the shared trainer), synthetic routes, recall@k, position
estimate and the rotation-robustness measurement.

A triplet is a query scan (anchor), a database place within ``positive_radius`` metres (positive) and one
farther than ``negative_radius`` metres (negative); loss ``[m + |a - p|^2 - |a - n|^2]_+`` on the global
descriptors. NetVLAD is initialised from k-means of training local features before the first step.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import TensorDataset

from zoo.engines.retrieval.data.places import Places, bev_image, make_places, rotate_cloud
from zoo.engines.retrieval.losses import triplet_loss
from zoo.engines.retrieval.samplers import GroupedDataset, collate_groups
from zoo.engines.retrieval.tasks import encode_all
from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.errors import DataError
from zoo.metrics.retrieval import recall_at_k
from zoo.options import TrainOptions
from zoo_plugins.bevplace.config import BEVPlaceConfig
from zoo_plugins.bevplace.model import BEVPlace


def make_data(config: BEVPlaceConfig, source: str, split: str) -> Places:
    """``synthetic`` routes: ``train`` and ``test`` drive different random worlds."""
    if source != "synthetic":
        raise DataError(f"data source {source!r} is not available: only 'synthetic' LiDAR routes are generated "
                        "here (KITTI / NCLT scans need their own download)")
    return make_places(places=config.places, radius=config.radius, resolution=config.resolution,
                       positive_radius=config.positive_radius, seed=0 if split == "train" else 1)


def triplets(places: Places, negative_radius: float, seed: int = 0) -> np.ndarray:
    """(anchor, positive, negative) rows indexing ``[database; queries]``: each query with a database place
    within the positive radius and a random one beyond ``negative_radius``."""
    rng = np.random.default_rng(seed)
    n_db = len(places.database)
    dist = np.linalg.norm(places.query_xy[:, None] - places.database_xy[None], axis=2)
    rows = []
    for q, positives in enumerate(places.positives):
        far = np.nonzero(dist[q] > negative_radius)[0]
        for p in positives:
            rows.append([n_db + q, int(p), int(rng.choice(far))])
    return np.asarray(rows, dtype=np.int64)


def place_loss(model: BEVPlace, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
    """Triplet loss of the global descriptors of a batch of whole triplets."""
    desc = model.descriptor(batch[0]).reshape(-1, 3, model.netvlad.centroids.numel())
    loss = triplet_loss(desc[:, 0], desc[:, 1], desc[:, 2], model.config.margin)
    return loss, {"triplet": float(loss.detach())}


def train(model: BEVPlace, data: Places, config: BEVPlaceConfig, options: TrainOptions,
          callbacks: Any = ()) -> TrainResult:
    """Initialise NetVLAD from k-means, then train on query/positive/negative triplets."""
    images = torch.cat([data.database, data.queries])
    with torch.no_grad():
        local = encode_all(model, lambda x: model(x)["local"], data.database).flatten(0, 1)
    pick = torch.randperm(len(local), generator=torch.Generator().manual_seed(int(options.seed)))[:5000]
    model.netvlad.initialise(local[pick], seed=int(options.seed))
    grouped = GroupedDataset(TensorDataset(images), triplets(data, config.negative_radius, int(options.seed)))
    recipe = Recipe(steps=config.steps, batch_size=config.batch_size, lr=config.lr, schedule="cosine",
                    grad_clip=5.0)
    return fit(model, grouped, place_loss, recipe, options, collate=collate_groups, callbacks=callbacks)


def estimate_position(query: torch.Tensor, database: torch.Tensor, positions: np.ndarray, k: int = 3) -> np.ndarray:
    """Each query's position: the mean of its ``k`` best database places' positions weighted by the inverse
    descriptor distance (feature distance grows with geometric distance)."""
    dist = torch.cdist(query, database)
    near = dist.topk(k, largest=False)
    weights = 1.0 / (near.values + 1e-6)
    weights = (weights / weights.sum(1, keepdim=True)).numpy()
    return (weights[..., None] * positions[near.indices.numpy()]).sum(1)


def evaluate(model: BEVPlace, data: Places, options: Mapping[str, Any]) -> dict[str, float]:
    """Recall@1/5/k (a database place within the positive radius in the top k) and the position error."""
    k = int(options.get("k") or 5)
    q = encode_all(model, model.descriptor, data.queries)
    db = encode_all(model, model.descriptor, data.database)
    order = torch.argsort(q @ db.T, dim=1, descending=True).numpy()
    rel = np.array([[j in set(pos.tolist()) for j in row] for row, pos in zip(order, data.positives)])
    report = {f"recall@{n}": recall_at_k(rel, n) for n in sorted({1, 5, k})}
    top1 = data.database_xy[order[:, 0]]
    report["position_error_top1_m"] = float(np.linalg.norm(top1 - data.query_xy, axis=1).mean())
    estimate = estimate_position(q, db, data.database_xy, k=3)
    report["position_error_m"] = float(np.linalg.norm(estimate - data.query_xy, axis=1).mean())
    return report


def rotation_similarity(model: BEVPlace, clouds: Sequence[np.ndarray], angles_deg: Sequence[float]
                        ) -> dict[float, float]:
    """Mean cosine between each cloud's descriptor and the descriptor of the cloud rotated by each angle."""
    cfg = model.config
    base = encode_all(model, model.descriptor, torch.stack([bev_image(c, cfg.radius, cfg.resolution) for c in clouds]))
    out = {}
    for angle in angles_deg:
        turned = torch.stack([bev_image(rotate_cloud(c, math.radians(angle)), cfg.radius, cfg.resolution)
                              for c in clouds])
        out[float(angle)] = float((encode_all(model, model.descriptor, turned) * base).sum(1).mean())
    return out
