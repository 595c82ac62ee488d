"""SARG (Duan & Wang, PRCV 2021, "Learning Key Actors and Their Interactions for Group Activity Recognition"):
actor relation graphs with a self-attention top-k key-actor subgraph, fused with the full graph and the actor
features. The head on actor features and positions; declaration only, see README.md."""
from zoo.plugin import Input, Method, Plugin, Variant

_P = "zoo_plugins.sarg"

plugin = Plugin(Method(
    "sarg",
    task="graph nets, group activity",
    title="Learning Key Actors and Their Interactions for Group Activity Recognition (SARG)",
    paper="Duan & Wang, PRCV 2021, LNCS 13022, pp. 53-65, https://doi.org/10.1007/978-3-030-88013-2_5",
    license="Apache-2.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "synthetic tracks: 12 actors x 3 frames, 32-d, 2 graphs, k = 0.5, addpool"),
        Variant("base", f"{_P}.config:base", "Table 1's base model (ARG, no subgraph extraction) on the same data"),
        Variant("paper", f"{_P}.config:paper", "Volleyball head: d = f = 1024, 16 graphs, 8 activities, 9 actions"),
        Variant("collective", f"{_P}.config:collective", "Collective Activity head: 8 graphs, addpool, 5 / 6 classes"),
    ],
    inputs=[Input("features", ("B", "K", "N", "F"), "float", "actor features per frame (F = feature_dim)"),
            Input("positions", ("B", "K", "N", 2), "float", "actor box centres in [0, 1] image coordinates")],
    capabilities=("cpu", "cuda", "graphs"),
    summary="A = masked softmax(x_i.x_j/sqrt d); H1 = ReLU(A X W); S = sigmoid((A+I) H Theta); top ceil(kN) actors.",
    build=f"{_P}.model:build",
    example_inputs=f"{_P}.infer:example_inputs",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
