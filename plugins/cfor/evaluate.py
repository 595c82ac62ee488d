"""CFOR's metrics: category (top-k) and region accuracy, attribute recall, and retrieval MAP@k / recall@k."""
from __future__ import annotations

from collections.abc import Mapping

from typing import Any

import numpy as np
from torch.utils.data import Dataset

from zoo.metrics import accuracy, map_at_k, recall_at_k, topk_accuracy
from zoo_plugins.cfor.model import CFORModel
from zoo_plugins.cfor.search import coarse_to_fine
from zoo_plugins.cfor.train import build_index, predict_dataset


def relevance_matrix(query_cat: np.ndarray, query_attrs: np.ndarray, db_cat: np.ndarray, db_attrs: np.ndarray,
                     ranking: np.ndarray, mode: str = "category") -> np.ndarray:
    """Relevance of ranked results: same ``category``, same category and ``all`` query attributes, or
    ``any`` shared attribute (the paper's attribute-based relevance is not fully specified; see README)."""
    rel = np.zeros(ranking.shape, dtype=np.float64)
    for q in range(ranking.shape[0]):
        for j, item in enumerate(ranking[q]):
            if item < 0:
                continue
            same = db_cat[item] == query_cat[q]
            if mode == "category":
                rel[q, j] = same
            elif mode == "all":
                rel[q, j] = same and bool(np.all(db_attrs[item] >= query_attrs[q]))
            elif mode == "any":
                rel[q, j] = bool(np.any(db_attrs[item] & query_attrs[q])) or not query_attrs[q].any()
            else:
                raise ValueError(f"unknown relevance mode {mode!r}")
    return rel


def evaluate(model: CFORModel, database: Dataset, queries: Dataset, k: int = 10,
             relevance: str = "category", seed: int = 0) -> dict[str, Any]:
    """Classification metrics on ``queries`` and retrieval of ``queries`` against an index of ``database``.

    Also reports the MAP@k of a random ranking of the same database (the baseline a method must beat).
    """
    q = predict_dataset(model, queries)
    db = predict_dataset(model, database)
    index = build_index(model, database)
    onto = model.ontology
    results: dict[str, Any] = {
        "region_accuracy": accuracy(q["region"], q["true_region"]),
        "category_top1": accuracy(q["category_prob"], q["true_category"]),
        "category_top3": topk_accuracy(q["category_prob"], q["true_category"], k=min(3, len(onto.categories))),
    }
    truth, bits = q["true_attributes"].astype(bool), q["attributes"].astype(bool)
    tp = (truth & bits).sum(0)
    pos = truth.sum(0)
    recall = np.where(pos > 0, tp / np.maximum(pos, 1), np.nan)
    results["attribute_recall"] = float(np.nanmean(recall))
    results["attribute_accuracy"] = float((truth == bits).mean())
    ranking = np.full((len(q["category"]), k), -1, dtype=np.int64)
    cfg = model.config
    for i in range(len(q["category"])):
        cat = onto.categories[int(q["category"][i])]
        region = onto.region_of(cat)
        hits = coarse_to_fine(index, (region, cat), q["descriptor"][i], q["attributes"][i], k=k,
                              m=cfg.first_stage, attr_weight=cfg.attr_weight, expansion=cfg.expansion,
                              space=f"category/{region}")
        ranking[i, :len(hits)] = [h.id for h in hits]
    db_truth = db["true_category"]
    rel = relevance_matrix(q["true_category"], q["true_attributes"].astype(np.uint8), db_truth,
                           db["true_attributes"].astype(np.uint8), ranking, relevance)
    num_relevant = np.array([(db_truth == c).sum() for c in q["true_category"]])
    results[f"map@{k}"] = map_at_k(rel, k, num_relevant)
    results[f"recall@{k}"] = recall_at_k(rel, k, num_relevant)
    rng = np.random.default_rng(seed)
    random_rank = np.stack([rng.permutation(len(db_truth))[:k] for _ in range(len(q["category"]))])
    rand_rel = relevance_matrix(q["true_category"], q["true_attributes"].astype(np.uint8), db_truth,
                                db["true_attributes"].astype(np.uint8), random_rank, relevance)
    results[f"random_map@{k}"] = map_at_k(rand_rel, k, num_relevant)
    return results


def evaluate_hook(model: CFORModel, data: Dataset, options: Mapping[str, Any]) -> dict[str, Any]:
    """The ``evaluate`` hook: MAP@k/recall@k of ``data`` (queries) against ``options.database`` (default: the
    training split of ``options.source``)."""
    database = options.get("database")
    if database is None:
        from zoo.api import make_data

        database = make_data(model, options.get("source") or "synthetic", "train")
    return evaluate(model, database, data, k=int(options.get("k") or 10),
                    relevance=str(options.get("relevance") or "category"))
