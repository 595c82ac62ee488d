"""CFOR: coarse-to-fine object retrieval with an ontology and local multi-task learning. Declaration only."""
from zoo.plugin import Input, Method, Option, Plugin, Variant

_P = "zoo_plugins.cfor"

plugin = Plugin(Method(
    "cfor",
    task="retrieval",
    title="Large-Scale Coarse-to-Fine Object Retrieval Ontology and Deep Local Multitask Learning (CFOR)",
    paper="https://doi.org/10.1155/2021/8513393",
    license="Apache-2.0",
    variants=[Variant("tiny", f"{_P}.config:tiny", "synthetic 4-leaf ontology, test_resnet, 32 px"),
              Variant("paper", f"{_P}.config:paper", "DeepFashion, ResNet-101 + NASNet-A-Large APD")],
    inputs=[Input("image", ("B", 3, "H", "W"), "float", "RGB images in [0, 1]")],
    options=[
        Option("image", "strs", None, "query image files", hooks=("prepare_inputs",)),
        Option("index", "any", None, "an index folder (zoo index build) or a CFORIndex: search it"),
        Option("k", "int", 10, "hits per query", hooks=("infer", "evaluate")),
        Option("boxes", "any", None, "one (cx, cy, w, h) box per image instead of the detector"),
        Option("region", "str", None, "search this region's leaf instead of the predicted one"),
        Option("category", "str", None, "search this category's leaf instead of the predicted one"),
        Option("expansion", "int", None, "query-expansion neighbours (default: the variant's)"),
        Option("database", "any", None, "the indexed set (default: the same source's training split)",
               hooks=("evaluate", "save_outputs")),
        Option("source", "str", "synthetic", "data source of the default database", hooks=("evaluate",)),
        Option("relevance", "str", "category", "what makes a hit relevant", hooks=("evaluate",),
               choices=("category", "all", "any")),
    ],
    capabilities=("cpu", "cuda", "images", "retrieval", "faiss"),
    kernels=("l2_topk",),
    build=f"{_P}.model:build",
    example_inputs=f"{_P}.infer_io:example_inputs",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.data:make_data_hook",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.evaluate:evaluate_hook",
    prepare_inputs=f"{_P}.infer_io:prepare_inputs",
    save_outputs=f"{_P}.infer:save_outputs_hook",
    preprocessing=f"{_P}.config:preprocessing",
))
