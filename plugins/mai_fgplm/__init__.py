"""MAI-FGPLM (Zhang et al., PRCV 2021, "Learning Indistinguishable and Transferable Adversarial Examples"):
Adam-iterative attack with a piecewise-linear squash, gradient regularisation and mixed inputs, combined with
NI, TI and DI (NI-TI-DI-MAILM). Declaration only; see README.md."""
from zoo.plugin import Input, Method, Option, Plugin, Variant

#: The paper's attacks (Table 1 names). Declared here, not in config.py, so that the declaration imports no
#: submodule of the plugin (``import zoo`` stays light); config.py re-exports it.
ATTACKS: tuple[str, ...] = ("ni-ti-di-mailm", "ti-di-mailm", "mai-fgplm", "ni-ti-di-aitm", "ti-di-aitm",
                            "ni-ti-dim", "ti-dim")

_P = "zoo_plugins.mai_fgplm"

plugin = Plugin(Method(
    "mai-fgplm",
    task="adversarial attack",
    title="Learning Indistinguishable and Transferable Adversarial Examples (MAI-FGPLM)",
    paper="Zhang et al., PRCV 2021, LNCS 13022, pp. 152-164, https://doi.org/10.1007/978-3-030-88013-2_13",
    license="Apache-2.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "digits CNN source, eps 16/255, T 10, V = W = 3x3"),
        Variant("paper", f"{_P}.config:paper", "Inc-v3 + Inc-v4 + IncRes-v2 + Res-101 ensemble, 299x299, V = W = 9x9"),
        Variant("single", f"{_P}.config:single", "IncRes-v2 alone (the single-model setting)"),
    ],
    inputs=[Input("image", ("B", "C", "H", "W"), "float", "images in [0, 1] at the variant's size"),
            Input("label", ("B",), "long", "true labels (default: the source's predictions)", optional=True)],
    options=[Option("attack", "str", None, "one of the paper's attacks (default: the variant's)",
                    hooks=("infer", "evaluate"), choices=(None, *ATTACKS))],
    capabilities=("cpu", "cuda", "images"),
    summary="m += mu1 W*g + gamma1 g; v += mu2 (W*g)^2 + gamma2 g^2; x += alpha_t PL(lambda m / (sqrt v + r)).",
    build=f"{_P}.model:build",
    example_inputs=f"{_P}.infer:example_inputs",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
