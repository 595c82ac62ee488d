"""NHL: neuro-modulated Hebbian learning for fully test-time adaptation. Declaration only (see README.md)."""
from zoo.plugin import Input, Method, Option, Plugin, Variant

_P = "zoo_plugins.nhl"

plugin = Plugin(Method(
    "nhl",
    task="other (test-time adaptation; local learning)",
    title="Neuro-Modulated Hebbian Learning for Fully Test-Time Adaptation (NHL, CVPR 2023)",
    paper="Tang, Zhang, Xu, Chen, Cheng, Leng, Guo, He, CVPR 2023, https://arxiv.org/abs/2303.00914",
    license="Apache-2.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "digits 8x8 source CNN; test stream with Gaussian noise (sigma 0.5)"),
        Variant("blur", f"{_P}.config:blur", "the same; test stream blurred (sigma 1) with noise (sigma 0.3)"),
        Variant("paper", f"{_P}.config:paper", "32x32 RGB, wider source CNN (our stand-in for the CIFAR-10-C setting)"),
    ],
    inputs=[Input("image", ("B", "C", "H", "W"), "float", "images in [0, 1]")],
    options=[Option("adapt", "bool", False, "adapt a copy of the model on this batch (no labels) before predicting")],
    capabilities=("cpu", "cuda", "images", "test-time-adaptation", "hebbian"),
    summary="Adapts a source model on an unlabelled test stream: soft Hebbian first layer + entropy-tuned modulator.",
    build=f"{_P}.model:build",
    example_inputs="zoo.inference:example_images",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
