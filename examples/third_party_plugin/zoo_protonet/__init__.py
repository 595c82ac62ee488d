"""zoo-protonet: an example third-party zoo plugin (Prototypical Networks, Snell et al., 2017).

The declaration only: the SDK (``zoo.plugin``) turns it into the pluggy hooks and imports each target on first
use, so nothing here imports torch. The method card is ``README.md`` beside this file.
"""
from zoo.plugin import Input, Method, Option, Plugin, Variant

plugin = Plugin(Method(
    "protonet",
    task="classification",
    title="Prototypical Networks for Few-shot Learning (Snell et al., 2017), example plugin",
    paper="https://arxiv.org/abs/1703.05175",
    license="MIT",
    variants=[Variant("tiny", "zoo_protonet.config:tiny", "8x8 grey digits, 2 conv blocks of 16 (64-d embedding)"),
              Variant("paper", "zoo_protonet.config:paper", "4 conv blocks of 64 on 28x28 (Omniglot), 60-way")],
    inputs=[Input("image", ("B", 1, "H", "W"), "float", "grey images in [0, 1]")],
    options=[
        Option("top_k", "int", 1, "classes to return per image"),
        Option("image", "path", None, "a picture (.png/.jpg) or a 2-D .npy array", hooks=("prepare_inputs",)),
        Option("episodes", "int", 200, "few-shot episodes to average", hooks=("evaluate",)),
        Option("way", "int", 5, "classes per evaluation episode", hooks=("evaluate",)),
        Option("shot", "int", 5, "support images per class", hooks=("evaluate",)),
        Option("classes", "ints", (), "classes to draw episodes from (default: all)", hooks=("evaluate",)),
        Option("seed", "int", 0, "seed of the evaluation episodes", hooks=("evaluate",)),
    ],
    capabilities=("cpu", "images"),
    build="zoo_protonet.model:ProtoNet",
    example_inputs="zoo_protonet.infer:example_inputs",
    infer="zoo_protonet.infer:predict",
    train="zoo_protonet.train:train",
    evaluate="zoo_protonet.infer:evaluate",
    make_data="zoo_protonet.data:make_data",
    prepare_inputs="zoo_protonet.infer:prepare_inputs",
    save_outputs="zoo_protonet.infer:save_outputs",
    preprocessing="zoo_protonet.infer:preprocessing",
))
