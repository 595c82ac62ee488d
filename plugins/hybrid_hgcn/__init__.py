"""HybridHGCN (Huang et al., PRCV 2021, "Hypergraph Convolutional Network with Hybrid Higher-Order Neighbors"):
two-layer HGNN branches on the normalised operators of the powers H^1..H^k of the incidence matrix, mixed by an
element-wise max. Declaration only; see README.md."""
from zoo.plugin import Input, Method, Plugin, Variant

_P = "zoo_plugins.hybrid_hgcn"

plugin = Plugin(Method(
    "hybridhgcn",
    task="hypergraph nets",
    title="Hypergraph Convolutional Network with Hybrid Higher-Order Neighbors (HybridHGCN)",
    paper="Huang et al., PRCV 2021, LNCS 13022, pp. 103-114, https://doi.org/10.1007/978-3-030-88013-2_9",
    license="Apache-2.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "karate club: 34 one-hot features, hidden 16, orders 1-3"),
        Variant("hgnn", f"{_P}.config:hgnn", "baseline HGNN on the karate club (order 1 only)"),
        Variant("paper", f"{_P}.config:paper", "Cora: 1,433 features, hidden 32, 7 classes, orders 1-3"),
        Variant("citeseer", f"{_P}.config:citeseer", "Citeseer: 3,703 features, hidden 16, 6 classes"),
        Variant("pubmed", f"{_P}.config:pubmed", "Pubmed: 500 features, hidden 64, 3 classes"),
    ],
    inputs=[Input("x", ("N", "F"), "float", "vertex features (F = the variant's in_features)"),
            Input("incidence", ("N", "N"), "float", "square incidence matrix: hyperedge e = column e")],
    capabilities=("cpu", "cuda", "graphs"),
    summary="Y = softmax(max_k Theta(H^k) relu(Theta(H^k) X W1) W2), Theta = Dv^-1/2 H W De^-1 H^T Dv^-1/2.",
    build=f"{_P}.model:build",
    example_inputs=f"{_P}.infer:example_inputs",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
