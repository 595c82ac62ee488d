"""Objectness regularisation (Bao et al., PRCV 2021, "Improving Adversarial Robustness of Detector via Objectness
Regularization"): f'_obj = r sigmoid(f_obj) + b before post-processing, against vanishing patches.
Declaration only; see README.md."""
from zoo.plugin import Input, Method, Option, Plugin, Variant

_P = "zoo_plugins.objectness_reg"

plugin = Plugin(Method(
    "objectness-regularization",
    task="adversarial defence (detection)",
    title="Improving Adversarial Robustness of Detector via Objectness Regularization",
    paper="Bao et al., PRCV 2021, LNCS 13022, pp. 252-262, https://doi.org/10.1007/978-3-030-88013-2_21",
    license="Apache-2.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "small-CNN RetinaNet on 64x64 synthetic scenes, tau 0.5, eps 0.01"),
        Variant("paper", f"{_P}.config:paper", "tau 0.5, eps 0.01, 3500-pixel patches, 255 iterations; "
                                               "RetinaNet R50-FPN at 416 in place of YOLOv3"),
    ],
    inputs=[Input("image", ("B", 3, "H", "W"), "float", "RGB images in [0, 1] at the variant's size")],
    options=[Option("defence", "bool", True, "apply the objectness regularisation"),
             Option("attack_images", "int", 16, "images attacked in evaluation", hooks=("evaluate",)),
             Option("attack_steps", "int", None, "patch-attack iterations in evaluation (default: the variant's)",
                    hooks=("evaluate",))],
    capabilities=("cpu", "cuda", "images"),
    summary="r = 1/(4 tau (1 - tau)), b = logit(tau) - eps; objectness logits -> r sigmoid(.) + b.",
    build=f"{_P}.model:build",
    example_inputs=f"{_P}.infer:example_inputs",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
