"""FPSORA (Tao et al., PRCV 2021, "Flexible Projection Search Using Optimal Re-weighted Adjacency for Unsupervised
Manifold Learning"): alternate a per-sample QP that re-weights the kNN adjacency in the projected space and a
projection search that preserves the original locality; k-means on the result. Declaration only; see README.md."""
from zoo.plugin import Input, Method, Plugin, Variant

_P = "zoo_plugins.fpsora"

plugin = Plugin(Method(
    "fpsora",
    task="manifold learning",
    title="Flexible Projection Search Using Optimal Re-weighted Adjacency for Unsupervised Manifold Learning "
          "(FPSORA)",
    paper="Tao et al., PRCV 2021, LNCS 13022, pp. 227-239, https://doi.org/10.1007/978-3-030-88013-2_19",
    license="Apache-2.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "400 digits, d = 20, k = 5, 15 iterations"),
        Variant("digits", f"{_P}.config:digits", "1,000 digits, d = 40, k = 5, 30 iterations"),
        Variant("paper", f"{_P}.config:paper", "JAFFE setting: p = 676 (26x26), d = 210, k = 10, sigma = 1"),
    ],
    inputs=[Input("x", ("B", "P"), "float", "samples, one per row (P = the variant's input_dim)")],
    capabilities=("cpu", "cuda"),
    summary="mu_ij = (1/d_ij) / sum_l (1/d_il) re-weights kNN edges; M_t = (L_A^1/2)^+ L_o^1/2 M_t-1 L_o^1/2 "
            "(L_A^1/2)^+.",
    build=f"{_P}.model:build",
    example_inputs=f"{_P}.infer:example_inputs",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
