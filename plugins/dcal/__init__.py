"""DCAL: dual cross-attention learning for fine-grained categorisation and re-identification. Declaration only."""
from zoo.plugin import Input, Method, Option, Plugin, Variant

_P = "zoo_plugins.dcal"

plugin = Plugin(Method(
    "dcal",
    task="fine-grained (plus re-ID)",
    title="DCAL",
    paper="https://arxiv.org/abs/2205.02151",
    license="Apache-2.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "4-block 64-d ViT, 32 px synthetic fine-grained classes, R = 10 %"),
        Variant("tiny-reid", f"{_P}.config:tiny_reid", "4-block 64-d ViT, 32 x 16 synthetic pedestrians, R = 30 %"),
        Variant("paper", f"{_P}.config:paper", "DeiT-Tiny at 448 px (784 tokens), L = 12 SA, M = 1 GLCA, T = 12 "
                "PWCA, R = 10 %, CUB's 200 classes"),
        Variant("paper-reid", f"{_P}.config:paper_reid", "DeiT-Tiny at 256 x 128, R = 30 %, CE + triplet, 4 "
                "images per identity"),
    ],
    inputs=[Input("image", ("B", 3, "H", "W"), "float", "RGB images in [0, 1]")],
    options=[Option("k", "int", 5, "classes (FGVC) or hits (re-ID) to return", hooks=("infer",)),
             Option("gallery", "any", None, "re-ID: gallery images (N, 3, H, W) to rank", hooks=("infer",))],
    capabilities=("cpu", "cuda", "images", "retrieval"),
    summary="A ViT trained with two cross-attentions: top-R rollout-selected local queries against all keys "
            "(GLCA, kept at inference) and a distractor image's keys/values (PWCA, training only).",
    build=f"{_P}.model:build",
    example_inputs=f"{_P}.infer:example_inputs",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.train:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
