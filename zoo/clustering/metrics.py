"""Clustering quality against ground-truth labels: ACC (best one-to-one map of clusters to classes, found with the
Hungarian algorithm), NMI and ARI (scikit-learn's definitions). Inputs may be tensors, arrays or lists."""
from __future__ import annotations

from typing import Any

import numpy as np

from zoo.errors import InputError
from zoo.metrics._arrays import to_numpy


def _labels(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t = to_numpy(y_true, "y_true", dtype=np.int64).reshape(-1)
    p = to_numpy(y_pred, "y_pred", dtype=np.int64).reshape(-1)
    if t.shape != p.shape:
        raise InputError(f"y_true has {t.size} labels and y_pred {p.size}; they must match")
    if t.size == 0:
        raise InputError("no labels to compare")
    return t, p


def contingency(y_true: Any, y_pred: Any) -> np.ndarray:
    """``C[i, j]`` = number of samples of class ``i`` put in cluster ``j`` (classes and clusters in sorted order)."""
    t, p = _labels(y_true, y_pred)
    _, ti = np.unique(t, return_inverse=True)
    _, pi = np.unique(p, return_inverse=True)
    c = np.zeros((ti.max() + 1, pi.max() + 1), dtype=np.int64)
    np.add.at(c, (ti, pi), 1)
    return c


def clustering_accuracy(y_true: Any, y_pred: Any) -> float:
    """ACC = max over one-to-one maps ``m`` from clusters to classes of ``mean(y_true == m(y_pred))`` (the map is
    the Hungarian assignment on the contingency table; with more clusters than classes the extra clusters count
    as wrong)."""
    from scipy.optimize import linear_sum_assignment

    c = contingency(y_true, y_pred)
    rows, cols = linear_sum_assignment(-c)
    return float(c[rows, cols].sum() / c.sum())


def nmi(y_true: Any, y_pred: Any) -> float:
    """Normalised mutual information (arithmetic normalisation, scikit-learn's default)."""
    from sklearn.metrics import normalized_mutual_info_score

    return float(normalized_mutual_info_score(*_labels(y_true, y_pred)))


def nmi_geometric(y_true: Any, y_pred: Any) -> float:
    """NMI with the geometric normalisation ``I / sqrt(H(Y) H(C))`` (the formula FPSORA Eq. 15 and many
    clustering papers print)."""
    from sklearn.metrics import normalized_mutual_info_score

    return float(normalized_mutual_info_score(*_labels(y_true, y_pred), average_method="geometric"))


def ari(y_true: Any, y_pred: Any) -> float:
    """Adjusted Rand index."""
    from sklearn.metrics import adjusted_rand_score

    return float(adjusted_rand_score(*_labels(y_true, y_pred)))


def clustering_scores(y_true: Any, y_pred: Any) -> dict[str, float]:
    """``{"acc", "nmi", "ari"}``."""
    return {"acc": clustering_accuracy(y_true, y_pred), "nmi": nmi(y_true, y_pred), "ari": ari(y_true, y_pred)}
