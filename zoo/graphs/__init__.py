"""Graph utilities shared by plugins: kNN and heat-kernel graphs, graph Laplacians (plain and normalised),
hypergraph incidence matrices and their normalised operators (and powers), PSD matrix functions, and sparse helpers.

Every function takes torch tensors and returns torch tensors (dense by default; the adjacency and Laplacian
functions also take and return torch sparse COO matrices). Each is tested against its definition, a hand-computed
case, networkx or scikit-learn in ``tests/shared/test_graphs.py``.

=================================  ================================================================================
module                             what
=================================  ================================================================================
:mod:`zoo.graphs.distances`        ``pairwise_sq_dists``, ``check_points``
:mod:`zoo.graphs.knn`              ``knn_indices``, ``knn_graph`` (binary / heat / cosine weights), ``heat_kernel``
:mod:`zoo.graphs.laplacian`        ``degree``, ``laplacian`` (D - W, sym, rw), ``normalized_adjacency`` (GCN),
                                   ``dirichlet_energy`` (tr(Y^T L Y))
:mod:`zoo.graphs.hypergraph`       incidence matrices (from hyperedges, from a graph, kNN), degrees, HGNN's
                                   ``hypergraph_propagation``, ``hypergraph_laplacian``, ``incidence_power``,
                                   ``higher_order_propagations`` (HybridHGCN), ``clique_expansion``
:mod:`zoo.graphs.spectral`         ``psd_power``, ``psd_sqrt``, ``pinv_sqrt`` (Laplacian square roots, FPSORA)
:mod:`zoo.graphs.sparse`           dense/sparse-agnostic row/col sums, scaling, SpMM; scipy and networkx conversion
=================================  ================================================================================
"""
from __future__ import annotations

from zoo.graphs.distances import check_points, pairwise_sq_dists
from zoo.graphs.hypergraph import (
    clique_expansion,
    higher_order_propagations,
    hypergraph_degrees,
    hypergraph_laplacian,
    hypergraph_propagation,
    incidence_from_adjacency,
    incidence_from_hyperedges,
    incidence_power,
    knn_incidence,
    propagate,
)
from zoo.graphs.knn import heat_kernel, knn_graph, knn_indices, symmetrize
from zoo.graphs.laplacian import degree, dirichlet_energy, inv_sqrt_degree, laplacian, normalized_adjacency
from zoo.graphs.sparse import (
    adjacency_from_networkx,
    diag_matrix,
    from_scipy,
    is_sparse,
    matmul,
    scale_rows_cols,
    to_dense,
    to_scipy,
)
from zoo.graphs.spectral import pinv_sqrt, psd_power, psd_sqrt

__all__ = [
    "adjacency_from_networkx", "check_points", "clique_expansion", "degree", "diag_matrix", "dirichlet_energy",
    "from_scipy", "heat_kernel", "higher_order_propagations", "hypergraph_degrees", "hypergraph_laplacian",
    "hypergraph_propagation", "incidence_from_adjacency", "incidence_from_hyperedges", "incidence_power",
    "inv_sqrt_degree", "is_sparse", "knn_graph", "knn_incidence", "knn_indices", "laplacian", "matmul",
    "normalized_adjacency", "pairwise_sq_dists", "pinv_sqrt", "propagate", "psd_power", "psd_sqrt",
    "scale_rows_cols", "symmetrize", "to_dense", "to_scipy",
]
