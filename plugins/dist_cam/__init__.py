"""Dist-CAM (Shen et al., PRCV 2021, "Distance-Based Class Activation Map for Metric Learning"): class activation
maps for FC-free metric-learning models, weighting feature channels by the inverse of their distance to a class
prototype. Declaration only; see README.md."""
from zoo.plugin import Input, Method, Option, Plugin, Variant

_P = "zoo_plugins.dist_cam"

plugin = Plugin(Method(
    "dist-cam",
    task="interpretability utility",
    title="Distance-Based Class Activation Map for Metric Learning (Dist-CAM)",
    paper="Shen et al., PRCV 2021, LNCS 13022, pp. 336-347, https://doi.org/10.1007/978-3-030-88013-2_28",
    license="Apache-2.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "3-block CNN prototype classifier, digits placed on 32x32 clutter"),
        Variant("paper", f"{_P}.config:paper", "ResNet-50 metric model on ImageNet: 2048x7x7 features, 1000 prototypes"),
    ],
    inputs=[Input("image", ("B", "C", "H", "W"), "float", "images in [0, 1] at the variant's size")],
    options=[Option("target", "int", -1, "class whose prototype the map is for (-1: the predicted class)"),
             Option("norm", "str", "sum", "normalisation of the inverse distances", choices=("sum", "max", "minmax")),
             Option("threshold", "float", 0.2, "box threshold, fraction of the map's maximum", hooks=("infer",
                                                                                                     "evaluate"))],
    capabilities=("cpu", "cuda", "images"),
    summary="D^c = |GAP(S^c) - GAP(Q)|, W^c = norm(1 / D^c), M^c = sum_k W^c_k Q_k (Eqs. 4-6).",
    build=f"{_P}.model:build",
    example_inputs="zoo.inference:example_images",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
