"""ForwardGNN: forward learning of graph neural networks (single-forward and forward-forward rules, GCN / SAGE /
GAT layers from torch_geometric). Declaration only (see README.md)."""
from zoo.plugin import Input, Method, Plugin, Variant

_P = "zoo_plugins.forward_gnn"

plugin = Plugin(Method(
    "forwardgnn",
    task="supervised local learning (graph)",
    title="Forward Learning of Graph Neural Networks (ForwardGNN, ICLR 2024)",
    paper="Park, Wang, Simoulin, Yang, Yang, Rossi, Trivedi, Ahmed, ICLR 2024, https://arxiv.org/abs/2403.11004 "
          "(reimplemented from the paper; the public code is CC-BY-NC and was not used)",
    license="Apache-2.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "karate club, 2-layer GCN, single-forward with virtual class nodes"),
        Variant("sage", f"{_P}.config:sage", "karate club, 2-layer GraphSAGE, single-forward"),
        Variant("gat", f"{_P}.config:gat", "karate club, 2-layer GAT, single-forward"),
        Variant("ff", f"{_P}.config:ff", "karate club, 2-layer GCN, forward-forward with label appending"),
        Variant("sbm", f"{_P}.config:sbm", "stochastic block model (3 x 40 nodes), 2-layer GCN, single-forward"),
        Variant("paper", f"{_P}.config:paper", "scripts' defaults: 4 layers, hidden 128, LR 1e-3, 1000 epochs"),
    ],
    inputs=[Input("x", ("N", "F"), "float", "node features"),
            Input("edge_index", (2, "E"), "long", "edges (source, target), both directions for undirected graphs"),
            Input("labels", ("N",), "long", "known labels, -1 where unknown", finite=False)],
    capabilities=("cpu", "graphs", "local-learning", "bp-free"),
    summary="Each GNN layer learns alone with its own optimizer; classes are scored against virtual class nodes.",
    build=f"{_P}.model:build",
    example_inputs=f"{_P}.infer:example_inputs",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
