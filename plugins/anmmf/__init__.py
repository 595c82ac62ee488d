"""ANMMF (Wang et al., PRCV 2021, "Attributed Non-negative Matrix Multi-factorization for Data Representation"):
V factorisations X ~ U_i V_i^T with HSIC diversity between the V_i and a shared graph-Laplacian term, solved by
multiplicative updates; clustering by multi-view k-means over {V_i}. Declaration only; see README.md."""
from zoo.plugin import Input, Method, Plugin, Variant

_P = "zoo_plugins.anmmf"

plugin = Plugin(Method(
    "anmmf",
    task="matrix factorization",
    title="Attributed Non-negative Matrix Multi-factorization for Data Representation (ANMMF)",
    paper="Wang et al., PRCV 2021, LNCS 13022, pp. 66-77, https://doi.org/10.1007/978-3-030-88013-2_6",
    license="Apache-2.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "500 digits, V = 3, m = 10, k = 10, 60 iterations"),
        Variant("digits", f"{_P}.config:digits", "all 1,797 digits, V = 3, m = 10, k = c = 10, 200 iterations"),
        Variant("paper", f"{_P}.config:paper", "ORL setting: D = 1,024, c = k = m = 40, V = 3 (bring the data)"),
        Variant("gnmf", f"{_P}.config:gnmf", "baseline GNMF on the digits (V = 1, lambda_1 = 0)"),
        Variant("nmf", f"{_P}.config:nmf", "baseline NMF on the digits (V = 1, lambda_1 = lambda_2 = 0)"),
    ],
    inputs=[Input("x", ("B", "D"), "float", "non-negative samples, one per row (D = the variant's input_dim)")],
    capabilities=("cpu", "cuda"),
    summary="O = sum_i ||X - U_i V_i^T||^2 + l1 sum_{i<j} HSIC(V_i, V_j) + l2 sum_i tr(V_i^T L V_i), MU updates.",
    build=f"{_P}.model:build",
    example_inputs=f"{_P}.infer:example_inputs",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
