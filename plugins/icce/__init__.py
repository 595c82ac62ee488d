"""ICCE (Li et al., PRCV 2021, "Improved Categorical Cross-Entropy Loss for Training Deep Neural Networks with
Noisy Labels"): CE re-weighted by exp(T (p_y - 0.5)) through its exact integral form. Declaration only."""
from zoo.plugin import Input, Method, Plugin, Variant

_P = "zoo_plugins.icce"

plugin = Plugin(Method(
    "icce-loss",
    task="robust loss (noisy labels)",
    title="Improved Categorical Cross-Entropy Loss for Training Deep Neural Networks with Noisy Labels (ICCE)",
    paper="Li et al., PRCV 2021, LNCS 13022, pp. 78-89, https://doi.org/10.1007/978-3-030-88013-2_7",
    license="Apache-2.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "digits with 40% uniform label noise, small CNN, T = 4"),
        Variant("paper", f"{_P}.config:paper", "CIFAR-10 Keras ResNet-56 v1 (857,706 parameters), T = 4"),
        Variant("resnet44", f"{_P}.config:resnet44", "CIFAR-10 Keras ResNet-44 v1 (662,826 parameters), T = 4"),
    ],
    inputs=[Input("image", ("B", "C", "H", "W"), "float", "images in [0, 1] at the variant's size")],
    capabilities=("cpu", "cuda", "images"),
    summary="L = e^{-T/2}(Ei(T) - Ei(T p_y)); gradient e^{T(p_y - 0.5)} (p - onehot); T = 0 is CE.",
    build=f"{_P}.model:build",
    example_inputs="zoo.inference:example_images",
    infer="zoo.inference:classify",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
