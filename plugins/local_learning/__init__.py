"""Supervised local learning: AugLocal, MAN and the DGL/InfoPro baseline. Declarations only."""
from zoo.plugin import Input, Method, Plugin, Variant

_CFG = "zoo_plugins.local_learning.config"


def _variants(method: str, extra: dict[str, str] | None = None) -> list:
    """``tiny`` and ``paper`` for every method, plus the method's own extras (factory ``<name>`` in config)."""
    variants = [Variant("tiny", f"{_CFG}:{method}_tiny", "digits 8x8, ResNet-14 split layer-wise (K=7)"),
                Variant("paper", f"{_CFG}:{method}_paper", "CIFAR-10, ResNet-32, K=16, 400 epochs")]
    for name, description in (extra or {}).items():
        factory = name.replace("-", "_") if "-" in name else f"{method}_{name}"
        variants.append(Variant(name, f"{_CFG}:{factory}", description))
    return variants


_SHARED = dict(
    task="supervised local learning",
    inputs=[Input("image", ("B", "C", "H", "W"), "float", "images in [0, 1]")],
    capabilities=("cpu", "cuda", "images", "local-learning"),
    license="MIT",
    build="zoo_plugins.local_learning.model:build_local_net",
    example_inputs="zoo.inference:example_images",
    infer="zoo.inference:classify",
    make_data="zoo_plugins.local_learning.data:make_data",
    train="zoo_plugins.local_learning.train:train",
    evaluate="zoo_plugins.local_learning.train:evaluate",
)

plugin = Plugin(
    Method("auglocal", title="Scaling Supervised Local Learning with Augmented Auxiliary Networks (AugLocal, "
           "ICLR 2024)", variants=_variants("auglocal", {"resnet110": "ResNet-110, K=55, d=3"}),
           paper="https://arxiv.org/abs/2402.17318", **_SHARED),
    Method("man", title="Momentum Auxiliary Network for Supervised Local Learning (MAN, ECCV 2024)",
           variants=_variants("man"), paper="https://arxiv.org/abs/2407.05623", **_SHARED),
    Method("dgl", title="Decoupled Greedy Learning / InfoPro local-learning baselines",
           variants=_variants("dgl", {"infopro-tiny": "InfoPro heads, digits",
                                      "infopro-paper": "InfoPro heads, ResNet-32 K=16",
                                      "bp-tiny": "end-to-end backprop (K=1), digits",
                                      "bp-paper": "end-to-end backprop (K=1), ResNet-32"}),
           paper="https://arxiv.org/abs/1901.08164", **_SHARED),
)
