"""Metrics shared by plugins, each checked against a reference implementation in ``tests/metrics``.

Inputs may be torch tensors, NumPy arrays or lists; results are Python floats (computed in float64).

- classification: :func:`accuracy`, :func:`topk_accuracy`
- regression: :func:`rmse`, :func:`mae`
- retrieval: :func:`map_at_k`, :func:`recall_at_k`, :func:`ranked_relevance`, :func:`revisited_maps`
  (revisited Oxford/Paris easy/medium/hard), :func:`cmc` and :func:`reid_map` (re-identification)
- distributions: :func:`frechet_distance`, :func:`frechet_distance_from_features`, :func:`sqrtm_psd`
"""

from __future__ import annotations

from zoo.metrics.classification import accuracy, topk_accuracy
from zoo.metrics.frechet import (
    frechet_distance,
    frechet_distance_from_features,
    sqrtm_psd,
    trace_sqrt_product,
)
from zoo.metrics.regression import mae, rmse
from zoo.metrics.retrieval import cmc, map_at_k, ranked_relevance, recall_at_k, reid_map, revisited_maps

__all__ = [
    "accuracy",
    "topk_accuracy",
    "rmse",
    "mae",
    "map_at_k",
    "recall_at_k",
    "ranked_relevance",
    "revisited_maps",
    "cmc",
    "reid_map",
    "frechet_distance",
    "frechet_distance_from_features",
    "sqrtm_psd",
    "trace_sqrt_product",
]
