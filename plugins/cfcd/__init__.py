"""CFCD: coarse-to-fine compact discriminative representation for single-stage image retrieval. Declaration only."""
from zoo.plugin import Input, Method, Option, Plugin, Variant

_P = "zoo_plugins.cfcd"

plugin = Plugin(Method(
    "cfcd",
    task="retrieval (image)",
    title="CFCD (coarse-to-fine compact representation)",
    paper="https://arxiv.org/abs/2308.04008",
    license="MIT",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "timm test_resnet, 64 px synthetic landmarks, 32-d descriptor"),
        Variant("paper", f"{_P}.config:paper", "ResNet-101, GeM + FC 2048->512 + BN, MadaCos over 81,313 classes, "
                "tuples of 8 with a super-feature triplet loss (margin 0.1, weight 0.05)"),
    ],
    inputs=[Input("image", ("B", 3, "H", "W"), "float", "RGB images in [0, 1]")],
    options=[
        Option("database", "any", None, "database images (N, 3, H, W) to search", hooks=("infer",)),
        Option("k", "int", 10, "hits per query", hooks=("infer", "evaluate")),
        Option("index", "str", None, "faiss factory for the search (e.g. IVF64,Flat); exact by default",
               hooks=("infer", "evaluate")),
        Option("rerank", "int", 0, "re-rank this many global candidates with prominent local descriptors "
               "(0: the paper's single-stage search)", hooks=("infer", "evaluate")),
    ],
    capabilities=("cpu", "cuda", "images", "retrieval", "faiss"),
    summary="A compact global descriptor trained coarse (MadaCos: median-adaptive scale and margin) then fine "
            "(attention-selected local descriptors matched across anchor/positive, pushed from hard negatives).",
    build=f"{_P}.model:build",
    example_inputs=f"{_P}.infer:example_inputs",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.train:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
