"""EMMF (Huang et al., PRCV 2021, "Enhanced Multi-view Matrix Factorization with Shared Representation"): a deep
multi-view factorisation as an autoencoder fed with the identity (shared H, per-view decoders), enhanced by one
discriminator per view; k-means on H. Declaration only; see README.md."""
from zoo.plugin import Input, Method, Plugin, Variant

_P = "zoo_plugins.emmf"

plugin = Plugin(Method(
    "emmf",
    task="multi-view MF (+ discriminators)",
    title="Enhanced Multi-view Matrix Factorization with Shared Representation (EMMF)",
    paper="Huang et al., PRCV 2021, LNCS 13022, pp. 276-287, https://doi.org/10.1007/978-3-030-88013-2_23",
    license="Apache-2.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "200 samples, 3 synthetic 24-d views, encoder 64-32-16-4, 300 iterations"),
        Variant("no-discriminators", f"{_P}.config:no_discriminators", "Table 5's ablation (lambda_d = 0)"),
        Variant("paper", f"{_P}.config:paper", "MSRC-v1 sizes: 210 samples, 5 views, 1000-500-200-7, D 200-100-50-1"),
    ],
    inputs=[Input("index", ("B",), "long", "indices of training samples (the model is transductive)")],
    capabilities=("cpu", "cuda"),
    summary="X^(p) ~ H V_l^(p)T...V_1^(p)T via an identity-input autoencoder; L1 = L_R + lambda_d L_RD; k-means on H.",
    build=f"{_P}.model:build",
    example_inputs=f"{_P}.infer:example_inputs",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
