"""Rank databases for queries and report retrieval figures (mAP, recall@k, CMC, revisited easy/medium/hard).

:func:`rank` orders the whole database per query by exact similarity (cosine or negative squared L2), or
searches a :class:`~zoo.engines.retrieval.index.VectorIndex` for the top ``k``. :func:`label_report` scores a
ranking with class labels (landmarks, places, identities), optionally ignoring junk pairs (re-ID: same
identity and same camera); :func:`revisited_report` scores it with per-query easy/hard/junk ground truth.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from zoo.engines.retrieval.index import IndexSpec, VectorIndex
from zoo.errors import InputError
from zoo.metrics.retrieval import cmc, recall_at_k, reid_map, revisited_maps


def _tensor(x: Any) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).float()
    if t.ndim != 2:
        raise InputError(f"descriptors must be (n, d), got shape {tuple(t.shape)}")
    return t


def similarity(queries: Any, database: Any, metric: str = "cosine") -> torch.Tensor:
    """(Q, N) similarity: cosine, inner product (``ip``) or negative squared L2 (``l2``)."""
    q, db = _tensor(queries), _tensor(database)
    if q.shape[1] != db.shape[1]:
        raise InputError(f"queries are {q.shape[1]}-d but the database is {db.shape[1]}-d")
    if metric == "cosine":
        return F.normalize(q, dim=1) @ F.normalize(db, dim=1).T
    if metric == "ip":
        return q @ db.T
    if metric == "l2":
        return -torch.cdist(q, db).pow(2)
    raise InputError(f"metric must be 'cosine', 'ip' or 'l2', got {metric!r}")


def rank(queries: Any, database: Any, metric: str = "cosine", k: int | None = None,
         index: IndexSpec | None = None) -> np.ndarray:
    """Database indices per query, best first: all of them (exact), or the top ``k`` through a faiss index
    built from ``index`` (descriptors L2-normalised first when ``metric`` is cosine)."""
    if index is None:
        order = torch.argsort(similarity(queries, database, metric), dim=1, descending=True, stable=True)
        return order[:, :k].numpy() if k else order.numpy()
    q, db = _tensor(queries), _tensor(database)
    if metric == "cosine":
        q, db = F.normalize(q, dim=1), F.normalize(db, dim=1)
    vectors = VectorIndex(db.shape[1], index).build(db.numpy())
    return vectors.search(q.numpy(), k or len(db))[1]


def label_report(ranking: np.ndarray, query_labels: Any, database_labels: Any, ks: Sequence[int] = (1, 5, 10),
                 junk: np.ndarray | None = None) -> dict[str, float]:
    """mAP over the ranked database, recall@k (a relevant item in the top k) and CMC rank-k.

    ``junk`` (Q, N) marks database items to ignore for each query, indexed like the database (not like the
    ranking).
    """
    ranking = np.asarray(ranking, dtype=np.int64)
    q_labels, db_labels = np.asarray(query_labels).reshape(-1), np.asarray(database_labels).reshape(-1)
    valid = ranking >= 0
    rel = (db_labels[np.where(valid, ranking, 0)] == q_labels[:, None]) & valid
    junk_ranked = None if junk is None else np.take_along_axis(np.asarray(junk, bool), np.where(valid, ranking, 0), 1)
    curve = cmc(rel, max_rank=max(ks), junk=junk_ranked)
    report = {"mAP": reid_map(rel, junk_ranked)}
    kept = rel if junk_ranked is None else [r[~j] for r, j in zip(rel, junk_ranked)]
    width = max(len(r) for r in kept)
    padded = np.zeros((len(kept), width), dtype=bool)
    for i, r in enumerate(kept):
        padded[i, :len(r)] = r
    for k in ks:
        report[f"recall@{k}"] = recall_at_k(padded, k)
        report[f"cmc@{k}"] = float(curve[k - 1])
    return report


def revisited_report(ranking: np.ndarray, ground_truth: Sequence[dict[str, Any]]) -> dict[str, float]:
    """mAP under the revisited easy/medium/hard protocols (``ground_truth[q]`` has easy/hard/junk indices)."""
    return {f"mAP_{name}": value for name, value in revisited_maps(ranking, ground_truth).items()}
