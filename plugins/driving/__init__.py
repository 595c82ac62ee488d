"""Driving plugins: FADNet + DFL (Nguyen et al., IV 2022) and CDL (Do et al., 2023), steering-angle regression
trained federatedly over silo graphs. Declarations only."""
from zoo.plugin import Input, Method, Option, Plugin, Variant

_P = "zoo_plugins.driving"
_IMAGE = Input("image", ("B", 1, "H", "W"), "float", "grey front-camera crops in [0, 1], H = W = the variant's image_size")
_SHARED = dict(
    task="federated-learning/steering",
    license="MIT",
    inputs=[_IMAGE],
    options=[Option("image", "strs", None, "road images to steer from", hooks=("prepare_inputs",))],
    capabilities=("cpu", "cuda", "images", "federated"),
    kernels=("mix",),
    example_inputs=f"{_P}.infer:example_inputs",
    infer=f"{_P}.infer:infer",
    prepare_inputs=f"{_P}.infer:prepare_inputs",
    save_outputs=f"{_P}.infer:save_outputs",
    make_data=f"{_P}.data:make_data_hook",
    train=f"{_P}.fit:run_training",
    evaluate=f"{_P}.infer:evaluate_hook",
    preprocessing=f"{_P}.data:preprocessing",
)

plugin = Plugin(
    Method(
        "fadnet",
        title="Deep Federated Learning for Autonomous Driving (FADNet + DFL)",
        paper="https://arxiv.org/abs/2110.05754",
        variants=[Variant("tiny", f"{_P}.config:fadnet_tiny", "48x48 synthetic roads, Gaia's 11 silos, 60 rounds"),
                  Variant("paper", f"{_P}.config:fadnet_paper", "1x200x200, d=6272, Gaia, 3,000 rounds")],
        summary="ResNet-8 backbone with support branches, Accumulation and Hadamard Aggregation; DPASGD.",
        build=f"{_P}.model:FADNet",
        **_SHARED,
    ),
    Method(
        "cdl",
        title="Reducing Non-IID Effects in Federated Autonomous Driving with Contrastive Divergence Loss",
        paper="https://arxiv.org/abs/2303.06305",
        variants=[Variant("tiny", f"{_P}.config:cdl_tiny", "48x48 synthetic roads, Gaia's 11 silos, 60 rounds"),
                  Variant("paper", f"{_P}.config:cdl_paper", "two ResNet-8 on 1x200x200, beta 0.5, 3,600 rounds")],
        summary="Siamese backbone/sub-network ResNet-8; L_lr + beta KL(b,s) + (1-beta) KL(s,b); sub never shared.",
        build=f"{_P}.model:CDLNet",
        **_SHARED,
    ),
)
