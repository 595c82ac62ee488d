"""FGSMPR AT (Xie et al., PRCV 2021, "Robust Single-Step Adversarial Training with Regularizer"): FGSM adversarial
training plus a logit-pairing PGD regulariser on one example per batch. Declaration only; see README.md."""
from zoo.plugin import Input, Method, Option, Plugin, Variant

_P = "zoo_plugins.fgsmpr_at"

plugin = Plugin(Method(
    "fgsmpr-at",
    task="adversarial training",
    title="Robust Single-Step Adversarial Training with Regularizer (FGSMPR AT)",
    paper="Xie et al., PRCV 2021, LNCS 13022, pp. 29-41, https://doi.org/10.1007/978-3-030-88013-2_3",
    license="Apache-2.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "Wong et al.'s MNIST CNN at 8x8 digits, eps 0.3, K 3, m 1, lambda 0.1"),
        Variant("paper", f"{_P}.config:paper", "MNIST: the CNN at 28x28 (166,406 parameters), eps 0.3, 50 epochs"),
        Variant("cifar", f"{_P}.config:cifar", "CIFAR-10: PreAct ResNet-18 (11.17M), eps 8/255, lambda 0.5"),
    ],
    inputs=[Input("image", ("B", "C", "H", "W"), "float", "images in [0, 1] at the variant's size")],
    options=[Option("attack", "str", "none", "also classify a PGD attack of each image (none or pgd)",
                    hooks=("infer",), choices=("none", "pgd")),
             Option("cw", "bool", False, "also report CW-K-N robust accuracy", hooks=("evaluate",))],
    capabilities=("cpu", "cuda", "images"),
    summary="loss = CE(f(x_fgsm), y) + lambda/m sum_j ||f(x_fgsm_j) - f(x_pgd_j)||_2 (PGD-3 on m = 1 example).",
    build=f"{_P}.model:build",
    example_inputs="zoo.inference:example_images",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
