"""LOG-PBCD: gradient-free MLP training by proximal block coordinate descent with a log regulariser. Declaration
only (see README.md)."""
from zoo.plugin import Input, Method, Plugin, Variant

_P = "zoo_plugins.log_pbcd"

plugin = Plugin(Method(
    "log-pbcd",
    task="gradient-free training",
    title="Gradient-Free Neural Network Training Based on Deep Dictionary Learning with the Log Regularizer "
          "(LOG-PBCD)",
    paper="Xie, Li, Zhao, PRCV 2021, LNCS 13022, pp. 561-574, https://doi.org/10.1007/978-3-030-88013-2_46",
    license="Apache-2.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "digits 8x8, 64-100-100-10 MLP, the paper's MNIST hyper-parameters"),
        Variant("paper", f"{_P}.config:paper", "MNIST 784-500-500-10, lam 3e-6, eps 1e-3, rho 1.7, delta 1"),
        Variant("fashion", f"{_P}.config:fashion", "Fashion-MNIST: rho 1, eps 1e-4, lam 1e-7"),
        Variant("no-log", f"{_P}.config:no_log", "ablation: proximal BCD without the log regulariser"),
    ],
    inputs=[Input("image", ("B", "C", "H", "W"), "float", "images in [0, 1]")],
    capabilities=("cpu", "images", "gradient-free"),
    summary="Trains an MLP without back-propagation: closed-form proximal block updates and log-thresholding.",
    build=f"{_P}.model:build",
    example_inputs="zoo.inference:example_images",
    infer="zoo.inference:classify",
    make_data="zoo.engines.local_learning.data:image_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
