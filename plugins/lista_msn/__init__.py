"""LISTA-MSN (Li et al., PRCV 2021, "Learn the Approximation Distribution of Sparse Coding with Mixture Sparsity
Network"): LISTA's coarse codes feed a mixture density head with sparse (soft-thresholded) means. Declaration
only; see README.md."""
from zoo.plugin import Input, Method, Option, Plugin, Variant

_P = "zoo_plugins.lista_msn"

plugin = Plugin(Method(
    "lista-msn",
    task="sparse coding / unrolled optimisation",
    title="Learn the Approximation Distribution of Sparse Coding with Mixture Sparsity Network (LISTA-MSN)",
    paper="Li et al., PRCV 2021, LNCS 13022, pp. 387-398, https://doi.org/10.1007/978-3-030-88013-2_32",
    license="Apache-2.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "n 16, m 64, K 5, M 3: trains in seconds"),
        Variant("paper", f"{_P}.config:paper", "Sect. 3.1: n 64, m 256, lambda 0.5, K 10, M 5 (738,816 parameters)"),
        Variant("lista", f"{_P}.config:lista", "the LISTA baseline at the paper's size (MSE to the LASSO codes)"),
        Variant("digits", f"{_P}.config:digits", "Sect. 3.2: a dictionary of 256 scikit-learn digits"),
    ],
    inputs=[Input("x", ("B", "n"), "float", "signals of the variant's size n")],
    options=[Option("codes", "str", "mode", "mode (mu of argmax alpha) or sample (centre of a kernel ~ alpha)",
                    hooks=("infer", "evaluate"), choices=("mode", "sample"))],
    capabilities=("cpu", "cuda"),
    summary="z_hat = LISTA_K(x); o = W_m z_hat; alpha = softmax, mu = h_eps(o_mu), sigma = ELU+1; NLL; mu_argmax.",
    build=f"{_P}.model:build",
    example_inputs=f"{_P}.infer:example_inputs",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
