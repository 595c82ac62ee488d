"""FD module (Xu, Duan, Qiao, Chen, PRCV 2021, "Convolution Tells Where to Look"): a parameter-free attention mask
sigmoid(smoothL1(F - X)) from the difference between a convolution's input X and output F, refining F.
Declaration only; see README.md."""
from zoo.plugin import Input, Method, Option, Plugin, Variant

_P = "zoo_plugins.fd_module"

plugin = Plugin(Method(
    "fdnet",
    task="attention block / backbone",
    title="Convolution Tells Where to Look (FD module, FDNet)",
    paper="Xu et al., PRCV 2021, LNCS 13022, pp. 16-28, https://doi.org/10.1007/978-3-030-88013-2_2",
    license="Apache-2.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "FD-ResNet-8 (widths 8/16/32) on 8x8 digits"),
        Variant("paper", f"{_P}.config:paper", "FD-ResNet-50 on ImageNet (timm resnet50 + FD, 25.56M parameters)"),
        Variant("cifar", f"{_P}.config:cifar", "FD-ResNet-110 on CIFAR-10 (1.73M parameters)"),
        Variant("se-fd", f"{_P}.config:se_fd", "SENet-50 + FD on ImageNet (timm seresnet50 + FD, 28.09M)"),
    ],
    inputs=[Input("image", ("B", "C", "H", "W"), "float", "images at the variant's size and channels")],
    options=[Option("masks", "bool", False, "also return the mean FD mask of every refined block", hooks=("infer",))],
    capabilities=("cpu", "cuda", "images"),
    summary="F~ = sigmoid(smoothL1(F - X)) * F on the second conv of every residual block; zero parameters.",
    build=f"{_P}.model:build",
    example_inputs="zoo.inference:example_images",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
