"""LDL-VA (Le et al., WACV 2023, "Uncertainty-aware Label Distribution Learning for Facial Expression
Recognition"): label distributions built from K nearest neighbours in valence-arousal space, with a learned
per-sample uncertainty and a discriminative (centre) loss. Declaration only."""
from zoo.plugin import Input, Method, Option, Plugin, Variant

_P = "zoo_plugins.ldl_va"

plugin = Plugin(Method(
    "ldl-va",
    task="facial-expression-recognition",
    title="Uncertainty-aware Label Distribution Learning for Facial Expression Recognition (LDL-VA)",
    paper="Le et al., WACV 2023; code: https://github.com/minhnhatvt/label-distribution-learning-fer-tf",
    license="MIT",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "1-block timm ResNet (16-64 ch), 32x32 faces, K=4"),
        Variant("paper", f"{_P}.config:paper", "timm ResNet-50, 112x112 faces, K=8, 60 epochs"),
    ],
    inputs=[Input("image", ("B", 3, "S", "S"), "float", "aligned faces in [0, 1], S = the variant's image_size")],
    options=[Option("image", "path", None, "an aligned face image", hooks=("prepare_inputs",))],
    capabilities=("cpu", "cuda", "images"),
    kernels=("l2_topk",),
    summary="timm backbone; targets (1-lambda) l + lambda sum_k c_k f(x_k) / sum_k c_k; + gamma L_D.",
    build=f"{_P}.model:LDLVANet",
    example_inputs=f"{_P}.infer:example_inputs",
    infer=f"{_P}.infer:run",
    prepare_inputs=f"{_P}.infer:prepare_inputs",
    save_outputs=f"{_P}.infer:save_outputs",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
    preprocessing=f"{_P}.infer:preprocessing",
))
