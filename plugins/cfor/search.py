"""Online coarse-to-fine retrieval (the paper's Part 5 / Hindawi Algorithm 2).

1. predict region -> category -> attributes for the query object (or take the user's leaf);
2. global retrieval: L2 k-NN over the descriptors of that leaf only -> first top-m;
3. fine-grained: attribute matching of the m candidates; the cumulative score
   ``s = d_feat / median(d_feat) + lambda * d_attr`` (smaller is better) -> second top-k;
4. query expansion: average the query with its n best results, search the leaf again and re-rank.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zoo_plugins.cfor.index import CFORIndex


@dataclass(frozen=True)
class Hit:
    """One retrieved item: id, final score, feature distance, attribute distance."""

    id: int
    score: float
    feature_distance: float
    attribute_distance: float


def rerank(index: CFORIndex, q_attrs: np.ndarray, dist: np.ndarray, ids: np.ndarray, k: int,
           attr_weight: float) -> list[Hit]:
    """Cumulative dissimilarity of candidates: normalised feature distance + weighted attribute distance."""
    valid = ids >= 0
    ids, dist = ids[valid], dist[valid]
    if len(ids) == 0:
        return []
    _, attrs = index.vectors(ids)
    d_attr = ((attrs.astype(np.float32) - q_attrs.astype(np.float32)[None]) ** 2).sum(1)  # L2 on bits = Hamming
    scale = float(np.median(dist)) or 1.0
    score = dist / scale + attr_weight * d_attr
    order = np.argsort(score, kind="stable")[:k]
    return [Hit(int(ids[i]), float(score[i]), float(dist[i]), float(d_attr[i])) for i in order]


def coarse_to_fine(index: CFORIndex, leaf: tuple[str, str], q_feat: np.ndarray, q_attrs: np.ndarray, *,
                   k: int = 10, m: int = 50, attr_weight: float = 1.0, expansion: int = 5,
                   space: str | None = None) -> list[Hit]:
    """Search one query inside its leaf with attribute re-ranking and optional query expansion.

    ``space`` names the network that computed ``q_feat``; the index refuses a leaf of another network.
    """
    m = max(m, k, expansion)
    dist, ids = index.search_leaf(leaf, q_feat[None], m, space=space)
    hits = rerank(index, q_attrs, dist[0], ids[0], max(k, expansion), attr_weight)
    if expansion > 0 and hits:
        top = np.array([h.id for h in hits[:expansion]])
        feats, _ = index.vectors(top)
        expanded = (q_feat + feats.sum(0)) / (len(top) + 1)
        dist, ids = index.search_leaf(leaf, expanded[None], m, space=space)
        hits = rerank(index, q_attrs, dist[0], ids[0], k, attr_weight)
    return hits[:k]


def global_search(index: CFORIndex, q_feat: np.ndarray, k: int = 10) -> list[Hit]:
    """The baseline without the ontology: exhaustive L2 over every leaf, no re-ranking (only when every leaf's
    descriptors come from one network; the index raises otherwise)."""
    dist, ids = index.search_global(q_feat[None], k)
    return [Hit(int(i), float(d), float(d), 0.0) for d, i in zip(dist[0], ids[0]) if i >= 0]
