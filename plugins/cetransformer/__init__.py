"""CETransformer (Guo et al., PRCV 2021, "CETransformer: Casual Effect Estimation via Transformer Based
Representation Learning"): a transformer over covariate tokens, trained with reconstruction, WGAN balancing of the
treated and control representations, and two outcome heads. Declaration only; see README.md."""
from zoo.plugin import Input, Method, Option, Plugin, Variant

_P = "zoo_plugins.cetransformer"

plugin = Plugin(Method(
    "cetransformer",
    task="causal inference (tabular)",
    title="CETransformer: Casual Effect Estimation via Transformer Based Representation Learning",
    paper="Guo et al., PRCV 2021, LNCS 13022, pp. 524-535, https://doi.org/10.1007/978-3-030-88013-2_43",
    license="Apache-2.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "IHDP-like data (25 covariates), d = 16, one block, 400 steps"),
        Variant("paper", f"{_P}.config:paper", "25 covariate tokens, d = 64, 3 blocks of 4 heads (guessed sizes)"),
        Variant("no-transformer", f"{_P}.config:no_transformer", "ablation: an MLP encoder (Table 2)"),
        Variant("no-discriminator", f"{_P}.config:no_discriminator", "ablation: beta = 0, no balancing (Table 2)"),
    ],
    inputs=[Input("x", ("B", "F"), "float", "covariates (F = the variant's num_features), standardised")],
    options=[Option("realization", "int", 0, "IHDP-like realization to evaluate on", hooks=("evaluate",))],
    capabilities=("cpu", "cuda", "tabular"),
    summary="L = alpha ||X - X_hat||^2 + beta (E_t D(X_E) - E_c D(X_E)) + gamma MSE(h(X_E, T), Y); D a WGAN critic.",
    build=f"{_P}.model:build",
    example_inputs=f"{_P}.infer:example_inputs",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
