"""Retrieval metrics over ranked result lists: mAP@k, recall@k, the revisited Oxford/Paris protocol, CMC.

A ranked relevance matrix ``rel[q, i]`` says whether the ``i``-th result returned for query ``q`` (best first)
is relevant (binary; any value > 0 counts). :func:`ranked_relevance` builds it from query/database labels and
a ranking (e.g. the index returned by a k-NN search).

``AP@k(q) = (1/Z_q) * sum_{i<=k} P@i(q) * rel_i(q)`` with the normaliser ``Z_q`` chosen by ``normalize``:

- ``"min_k_r"`` (standard): ``min(k, R_q)``, where ``R_q`` is the number of relevant items in the database
  (``num_relevant``; default: the relevant items in the given list, which is right when the whole database is
  ranked);
- ``"r"``: ``R_q`` (the TREC/sklearn convention when k covers the database);
- ``"hits"``: the number of relevant results within the top k ("mean precision over relevant retrieved").

A query with ``Z_q = 0`` scores 0.

Landmark retrieval reports mAP under the revisited Oxford/Paris protocols (:func:`revisited_maps`: easy,
medium, hard; junk images removed from the ranking), and re-identification reports the CMC curve
(:func:`cmc`) and the full-gallery mAP (:func:`reid_map`), both ignoring junk gallery items.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo.errors import InputError
from zoo.metrics._arrays import require_nonempty, to_numpy

NORMALIZERS = ("min_k_r", "r", "hits")


def _relevance(relevance: Any, k: int) -> np.ndarray:
    rel = to_numpy(relevance, "relevance")
    if rel.ndim == 1:
        rel = rel[None]
    if rel.ndim != 2:
        raise InputError(f"relevance must be (Q, N) ranked results, got shape {rel.shape}")
    require_nonempty(rel, "relevance")
    if k < 1:
        raise InputError(f"k must be >= 1, got {k}")
    return (rel > 0).astype(np.float64)


def _num_relevant(rel: np.ndarray, num_relevant: Any) -> np.ndarray:
    if num_relevant is None:
        return rel.sum(axis=1)
    r = to_numpy(num_relevant, "num_relevant").reshape(-1)
    if r.shape[0] != rel.shape[0]:
        raise InputError(f"num_relevant has {r.shape[0]} entries for {rel.shape[0]} queries")
    return r


def average_precision_at_k(
    relevance: Any, k: int, num_relevant: Any = None, normalize: str = "min_k_r"
) -> np.ndarray:
    """Per-query AP@k (see the module docstring)."""
    if normalize not in NORMALIZERS:
        raise InputError(f"normalize must be one of {NORMALIZERS}, got {normalize!r}")
    rel = _relevance(relevance, k)
    total = _num_relevant(rel, num_relevant)
    top = rel[:, :k]
    ranks = np.arange(1, top.shape[1] + 1, dtype=np.float64)
    precision = np.cumsum(top, axis=1) / ranks
    summed = (precision * top).sum(axis=1)
    if normalize == "min_k_r":
        z = np.minimum(float(k), total)
    elif normalize == "r":
        z = total
    else:
        z = top.sum(axis=1)
    return np.divide(summed, z, out=np.zeros_like(summed), where=z > 0)


def map_at_k(relevance: Any, k: int, num_relevant: Any = None, normalize: str = "min_k_r") -> float:
    """Mean over queries of AP@k."""
    return float(average_precision_at_k(relevance, k, num_relevant, normalize).mean())


def recall_at_k(relevance: Any, k: int, num_relevant: Any = None, mode: str = "hit") -> float:
    """Recall@k averaged over queries.

    ``mode="hit"``: the fraction of queries with at least one relevant result in the top ``k`` (the usual
    image-retrieval "recall@k"); ``mode="fraction"``: the mean fraction of each query's ``R_q`` relevant items
    found in the top ``k`` (queries with ``R_q = 0`` score 0).
    """
    rel = _relevance(relevance, k)
    found = rel[:, :k].sum(axis=1)
    if mode == "hit":
        return float((found > 0).mean())
    if mode != "fraction":
        raise InputError(f"mode must be 'hit' or 'fraction', got {mode!r}")
    total = _num_relevant(rel, num_relevant)
    return float(np.divide(found, total, out=np.zeros_like(found), where=total > 0).mean())


def ranked_relevance(query_labels: Any, database_labels: Any, ranking: Any) -> np.ndarray:
    """``rel[q, i] = database_labels[ranking[q, i]] == query_labels[q]`` as a (Q, K) bool matrix."""
    q = to_numpy(query_labels, "query_labels", dtype=None).reshape(-1)
    d = to_numpy(database_labels, "database_labels", dtype=None).reshape(-1)
    order = to_numpy(ranking, "ranking", dtype=None).astype(np.int64)
    if order.ndim != 2 or order.shape[0] != q.shape[0]:
        raise InputError(f"ranking must be (Q, K) with Q = {q.shape[0]}, got {order.shape}")
    if order.size and (order.min() < 0 or order.max() >= d.shape[0]):
        raise InputError(f"ranking indexes must be in [0, {d.shape[0] - 1}]")
    return d[order] == q[:, None]


# --- revisited Oxford/Paris protocol -----------------------------------------------------------------------

PROTOCOLS = ("easy", "medium", "hard")


def protocol_sets(ground_truth: Any, protocol: str) -> tuple[np.ndarray, np.ndarray]:
    """Positives and junk of one query under a revisited Oxford/Paris protocol.

    ``ground_truth`` maps ``"easy"``, ``"hard"`` and ``"junk"`` to database indices (Radenović et al., CVPR 2018):
    *easy* counts only the easy images as positives and ignores hard and junk ones; *medium* counts easy and hard
    images and ignores junk; *hard* counts only the hard images and ignores easy and junk ones.
    """
    if protocol not in PROTOCOLS:
        raise InputError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    try:
        easy, hard, junk = (np.asarray(ground_truth.get(key, ()), dtype=np.int64).reshape(-1)
                            for key in ("easy", "hard", "junk"))
    except AttributeError as exc:
        raise InputError(f"ground truth must map 'easy', 'hard', 'junk' to indices, got {ground_truth!r}") from exc
    if protocol == "easy":
        return easy, np.concatenate([junk, hard])
    if protocol == "medium":
        return np.concatenate([easy, hard]), junk
    return hard, np.concatenate([junk, easy])


def revisited_average_precision(ranking: Any, positives: Any, junk: Any = ()) -> float:
    """AP of one ranked list with junk items removed first, as the revisited benchmark computes it.

    Precision is interpolated between ranks: the ``j``-th positive (0-based) found at junk-free rank ``r``
    contributes ``(p0 + p1) / (2 R)`` with ``p0 = j / r`` (1 when ``r = 0``) and ``p1 = (j + 1) / (r + 1)``.
    Positives missing from a truncated ranking contribute 0. Returns NaN when there is no positive.
    """
    order = to_numpy(ranking, "ranking", dtype=np.int64).reshape(-1)
    pos = np.asarray(positives, dtype=np.int64).reshape(-1)
    if pos.size == 0:
        return float("nan")
    kept = order[~np.isin(order, np.asarray(junk, dtype=np.int64))]
    ranks = np.sort(np.nonzero(np.isin(kept, pos))[0]).astype(np.float64)
    j = np.arange(len(ranks), dtype=np.float64)
    p0 = np.divide(j, ranks, out=np.ones_like(ranks), where=ranks > 0)
    p1 = (j + 1) / (ranks + 1)
    return float(((p0 + p1) / 2).sum() / pos.size)


def revisited_map(ranking: Any, ground_truth: Any, protocol: str = "medium") -> float:
    """mAP of ``ranking`` (Q, N database indices, best first) under one revisited protocol.

    Queries without a positive under the protocol are left out of the mean (as in the benchmark's code).
    """
    order = to_numpy(ranking, "ranking", dtype=np.int64)
    if order.ndim != 2 or order.shape[0] != len(ground_truth):
        raise InputError(f"ranking must be (Q, N) with Q = {len(ground_truth)} queries, got {order.shape}")
    aps = [revisited_average_precision(order[q], *protocol_sets(ground_truth[q], protocol))
           for q in range(order.shape[0])]
    valid = [a for a in aps if not np.isnan(a)]
    return float(np.mean(valid)) if valid else 0.0


def revisited_maps(ranking: Any, ground_truth: Any) -> dict[str, float]:
    """mAP under the easy, medium and hard protocols."""
    return {protocol: revisited_map(ranking, ground_truth, protocol) for protocol in PROTOCOLS}


# --- re-identification: CMC and mAP over the whole gallery ------------------------------------------------

def _drop_junk(relevance: Any, junk: Any) -> list[np.ndarray]:
    """Each query's relevance row (whole ranked gallery) with its junk positions removed."""
    rel = to_numpy(relevance, "relevance")
    if rel.ndim != 2:
        raise InputError(f"relevance must be (Q, N) over the ranked gallery, got shape {rel.shape}")
    require_nonempty(rel, "relevance")
    if junk is None:
        return [row > 0 for row in rel]
    mask = to_numpy(junk, "junk", dtype=bool)
    if mask.shape != rel.shape:
        raise InputError(f"junk must have the relevance's shape {rel.shape}, got {mask.shape}")
    return [row[~m] > 0 for row, m in zip(rel, mask)]


def cmc(relevance: Any, max_rank: int = 50, junk: Any = None) -> np.ndarray:
    """Cumulative matching characteristic: ``cmc[r-1]`` is the fraction of queries whose first correct match
    is at rank <= r.

    ``relevance`` ranks the whole gallery per query; ``junk`` marks positions to ignore (in re-ID: the same
    identity seen by the query's own camera, and distractors). Queries without any valid match are left out.
    """
    if max_rank < 1:
        raise InputError(f"max_rank must be >= 1, got {max_rank}")
    rows = [r for r in _drop_junk(relevance, junk) if r.any()]
    curve = np.zeros(max_rank, dtype=np.float64)
    for row in rows:
        first = int(np.argmax(row))
        if first < max_rank:
            curve[first:] += 1
    return curve / len(rows) if rows else curve


def reid_map(relevance: Any, junk: Any = None) -> float:
    """Mean over queries of the full-gallery average precision (mean precision at each true match), junk
    removed; queries without any valid match are left out."""
    aps = []
    for row in _drop_junk(relevance, junk):
        hits = np.nonzero(row)[0]
        if hits.size:
            aps.append(float(np.mean(np.arange(1, hits.size + 1) / (hits + 1))))
    return float(np.mean(aps)) if aps else 0.0
