"""SAC: Fine-Grained Visual Classification using Self-Assessment Classifier (declaration only; see README.md)."""
from zoo.plugin import Input, Method, Option, Plugin, Variant

_P = "zoo_plugins.sac"

plugin = Plugin(Method(
    "sac",
    task="fine-grained-classification",
    title="Fine-Grained Visual Classification using Self-Assessment Classifier (SAC)",
    paper="AIOZ research blog, seed 001 (Self-Assessment Classifier, Parts 1-2)",
    license="MIT",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "small CNN on 8x8 digits, k=3, 16-d words, d_e=h=32"),
        Variant("paper", f"{_P}.config:paper", "ResNet-50 at 448, k=10, 300-d words, d_e=h=1024, SGD 80 epochs"),
        Variant("code", f"{_P}.config:code",
                "the public TensorFlow code's choices (k=5, shared projections, residual head)"),
    ],
    inputs=[Input("image", ("B", "C", "H", "W"), "float",
                  "images normalised as the variant expects (tiny: 1 channel in [0, 1])")],
    options=[Option("top", "int", None, "classes to return per image (default: the variant's k)"),
             Option("image", "strs", None, "image files to classify", hooks=("prepare_inputs",))],
    capabilities=("cpu", "cuda", "images"),
    summary="Re-assesses the backbone's top-k classes with class-name x feature-map bilinear attention.",
    build=f"{_P}.model:SACModel",
    example_inputs=f"{_P}.infer:example_inputs",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
    prepare_inputs=f"{_P}.infer:prepare_inputs",
    save_outputs=f"{_P}.infer:save_outputs",
    preprocessing=f"{_P}.infer:preprocessing",
))
