"""tpSGD: back-propagation-free layer-wise SGD towards fixed random projections of the labels. Declaration only
(see README.md)."""
from zoo.plugin import Input, Method, Plugin, Variant

_P = "zoo_plugins.tpsgd"

plugin = Plugin(Method(
    "tpsgd",
    task="supervised local learning (BP-free)",
    title="tpSGD (Learning with Local Gradients at the Edge)",
    paper="Lomnitz, Daniels, Zhang, Piacentino, arXiv 2208.08503 (2022), https://arxiv.org/abs/2208.08503",
    license="Apache-2.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "digits 8x8, MLP 64-128-128-10, tanh"),
        Variant("cnn", f"{_P}.config:cnn", "digits 8x8, two 3x3 conv layers (16, 32) with max-pooling"),
        Variant("rnn", f"{_P}.config:rnn", "digits as 8 rows of 8 pixels, one tanh RNN layer of 128"),
        Variant("rnn2", f"{_P}.config:rnn2", "two stacked RNN layers (128, 128)"),
        Variant("paper", f"{_P}.config:paper", "MNIST-sized shallow MLP 784-500-500-10 (our stand-in)"),
    ],
    inputs=[Input("image", ("B", "C", "H", "W"), "float", "images in [0, 1]")],
    capabilities=("cpu", "cuda", "images", "local-learning", "bp-free"),
    summary="Each layer learns alone towards a fixed random projection of the label; no backward across layers.",
    build=f"{_P}.model:build",
    example_inputs="zoo.inference:example_images",
    infer="zoo.inference:classify",
    make_data="zoo.engines.local_learning.data:image_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
