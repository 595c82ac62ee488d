"""zoo-protonet: an example third-party zoo plugin (Prototypical Networks). Declaration only: the SDK
(``zoo.plugin``) turns it into the pluggy hooks, and nothing here imports torch."""
from zoo.plugin import Input, Method, Option, Plugin, Variant

plugin = Plugin(Method(
    "protonet",
    task="classification",
    title="Prototypical Networks for Few-shot Learning (Snell et al., 2017), example plugin",
    paper="https://arxiv.org/abs/1703.05175",
    license="MIT",
    variants=[Variant("tiny", "zoo_protonet.config:tiny", "8x8 grey images, 16-d embedding"),
              Variant("paper", "zoo_protonet.config:paper", "4 conv blocks of 64 channels")],
    inputs=[Input("image", ("B", 1, "H", "W"), "float", "grey images in [0, 1]")],
    options=[Option("top_k", "int", 1, "classes to return per image")],
    capabilities=("cpu", "images"),
    build="zoo_protonet.model:ProtoNet",
    example_inputs="zoo_protonet.infer:example_inputs",
    infer="zoo_protonet.infer:predict",
    make_data="zoo_protonet.model:make_data",
    train="zoo_protonet.model:fit",
    evaluate="zoo_protonet.infer:evaluate",
))
