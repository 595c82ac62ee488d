"""ANC (Liu et al., PRCV 2021, "Deep Architecture Compression with Automatic Clustering of Similar Neurons"):
cluster each layer's neurons (incoming weights + bias) with mean-shift, keep one neuron per cluster and sum the
next layer's connections, then fine-tune. Declaration only; see README.md."""
from zoo.plugin import Input, Method, Plugin, Variant

_P = "zoo_plugins.anc"

plugin = Plugin(Method(
    "anc-neuron-clustering",
    task="compression",
    title="Deep Architecture Compression with Automatic Clustering of Similar Neurons (ANC)",
    paper="Liu et al., PRCV 2021, LNCS 13022, pp. 361-373, https://doi.org/10.1007/978-3-030-88013-2_30",
    license="Apache-2.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "MLP 64-128-128-10 on the digits, flat mean-shift"),
        Variant("paper", f"{_P}.config:paper", "MNIST DBN 784-500-500-2000-10 (1.67M), bandwidth 0.1"),
        Variant("vgg16", f"{_P}.config:vgg16", "CIFAR-10 VGG-16-BN, 512-4096-4096-10 (33.65M), bandwidth 0.05"),
    ],
    inputs=[Input("x", ("B", "D"), "float", "flattened inputs (D = the variant's in_features)")],
    capabilities=("cpu", "cuda"),
    summary="mean-shift over neurons <w_i, b_i>; one neuron per cluster; w_hat_{i,p} = sum_{r_j = p} w_{i,j}.",
    build=f"{_P}.model:build",
    example_inputs=f"{_P}.infer:example_inputs",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
