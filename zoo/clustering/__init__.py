"""Clustering shared by plugins: torch k-means (k-means++ seeding), mean-shift (flat / Gaussian kernel),
robust multi-view k-means, and the clustering metrics ACC (Hungarian), NMI and ARI.

Each is tested against scikit-learn's implementation (or its definition) in ``tests/shared/test_clustering.py``.

==============================  =====================================================================
:mod:`zoo.clustering.kmeans`     ``kmeans`` (best of ``n_init`` Lloyd runs), ``kmeans_plusplus``, ``assign``
:mod:`zoo.clustering.meanshift`  ``mean_shift`` (flat = scikit-learn's MeanShift; Gaussian),
                                 ``estimate_bandwidth``, ``bin_seeds``, ``merge_modes``
:mod:`zoo.clustering.multiview`  ``multiview_kmeans`` (RMKMC, Cai et al. 2013)
:mod:`zoo.clustering.metrics`    ``clustering_accuracy``, ``nmi``, ``nmi_geometric``, ``ari``,
                                 ``clustering_scores``, ``contingency``
:mod:`zoo.clustering.datasets`   ``LabelledMatrix`` (rows + labels), ``digits_matrix`` (scikit-learn's digits)
==============================  =====================================================================
"""
from __future__ import annotations

from zoo.clustering.datasets import LabelledMatrix, digits_matrix
from zoo.clustering.kmeans import KMeansResult, assign, kmeans, kmeans_plusplus
from zoo.clustering.meanshift import MeanShiftResult, bin_seeds, estimate_bandwidth, mean_shift, merge_modes
from zoo.clustering.metrics import ari, clustering_accuracy, clustering_scores, contingency, nmi, nmi_geometric
from zoo.clustering.multiview import MultiViewKMeansResult, multiview_kmeans

__all__ = [
    "KMeansResult", "LabelledMatrix", "MeanShiftResult", "digits_matrix", "MultiViewKMeansResult", "ari", "assign", "bin_seeds", "clustering_accuracy",
    "clustering_scores", "contingency", "estimate_bandwidth", "kmeans", "kmeans_plusplus", "mean_shift",
    "merge_modes", "multiview_kmeans", "nmi", "nmi_geometric",
]
