"""DOLG: single-stage image retrieval with deep orthogonal fusion of local and global features. Declaration only."""
from zoo.plugin import Input, Method, Option, Plugin, Variant

_P = "zoo_plugins.dolg"

plugin = Plugin(Method(
    "dolg",
    task="retrieval (image)",
    title="DOLG: Single-Stage Image Retrieval with Deep Orthogonal Fusion of Local and Global Features",
    paper="https://arxiv.org/abs/2108.02927",
    license="MIT",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "timm test_resnet, 64 px synthetic landmarks, 32-d descriptor"),
        Variant("paper", f"{_P}.config:paper", "ResNet-101, multi-atrous local branch, 512-d, ArcFace over GLDv2's "
                "81,313 classes"),
        Variant("code", f"{_P}.config:code", "the public code's choices: no multi-atrous block, curricular ArcFace"),
        Variant("gem", f"{_P}.config:gem", "the GeM-only baseline: no local branch, no orthogonal fusion"),
    ],
    inputs=[Input("image", ("B", 3, "H", "W"), "float", "RGB images in [0, 1]")],
    options=[
        Option("database", "any", None, "database images (N, 3, H, W) to search", hooks=("infer",)),
        Option("k", "int", 10, "hits per query", hooks=("infer", "evaluate")),
        Option("index", "str", None, "faiss factory for the search (e.g. IVF64,Flat); exact by default",
               hooks=("infer", "evaluate")),
    ],
    capabilities=("cpu", "cuda", "images", "retrieval", "faiss"),
    summary="Attentive multi-atrous local features minus their projection on the GeM global vector, pooled and "
            "concatenated with it, then projected to one 512-d descriptor trained with ArcFace.",
    build=f"{_P}.model:build",
    example_inputs=f"{_P}.infer:example_inputs",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.train:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
