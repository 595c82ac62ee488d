"""Learning Gabor texture features for fine-grained recognition (texture branch + CNN). Declaration only."""
from zoo.plugin import Input, Method, Option, Plugin, Variant

_P = "zoo_plugins.gabor_texture"

plugin = Plugin(Method(
    "gabor-texture-features-for-fine-grained-recognition",
    task="fine-grained",
    title="Gabor texture features for fine-grained recognition",
    paper="https://arxiv.org/abs/2308.05396",
    license="Apache-2.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "test_resnet semantic branch, 8 learnable Gabor filters, 32 px "
                "texture-defined synthetic classes"),
        Variant("paper", f"{_P}.config:paper", "ResNet-50 semantic branch at 448 px, 4 scales x 8 orientations, "
                "CUB's 200 classes"),
        Variant("cnn", f"{_P}.config:cnn", "the semantic (CNN) branch alone: the baseline the texture branch "
                "adds to"),
    ],
    inputs=[Input("image", ("B", 3, "H", "W"), "float", "RGB images in [0, 1]")],
    options=[Option("k", "int", 5, "classes to return", hooks=("infer",))],
    capabilities=("cpu", "cuda", "images"),
    summary="A learnable, parameter-constrained Gabor filter bank on gate-selected zoomed regions; statistics of "
            "its responses form a texture feature added to the CNN's semantic feature.",
    build=f"{_P}.model:build",
    example_inputs=f"{_P}.infer:example_inputs",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
