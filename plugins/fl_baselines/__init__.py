"""FL baselines (FedAvg, FedProx, SCAFFOLD) on the shared federated engine. Declarations only."""
from zoo.plugin import Input, Method, Plugin, Variant

_P = "zoo_plugins.fl_baselines"
_PAPERS = {
    "fedavg": ("Communication-Efficient Learning of Deep Networks from Decentralized Data (FedAvg)",
               "https://arxiv.org/abs/1602.05629"),
    "fedprox": ("Federated Optimization in Heterogeneous Networks (FedProx)", "https://arxiv.org/abs/1812.06127"),
    "scaffold": ("SCAFFOLD: Stochastic Controlled Averaging for Federated Learning",
                 "https://arxiv.org/abs/1910.06378"),
}

plugin = Plugin(*(
    Method(
        name,
        task="federated learning",
        title=title + ", baseline",
        paper=paper,
        license="Apache-2.0",
        variants=[Variant("tiny", f"{_P}.config:{name}_tiny", "digits 8x8, 10 clients, Dirichlet(0.3)"),
                  Variant("paper", f"{_P}.config:{name}_paper", "the paper's MNIST-sized setting")],
        inputs=[Input("image", ("B", "C", "H", "W"), "float", "images in [0, 1]")],
        capabilities=("cpu", "federated"),
        kernels=("mix",),
        summary="classifier trained by federated simulation on the shared engine (zoo.engines.federated)",
        build=f"{_P}.model:build_classifier",
        example_inputs="zoo.inference:example_images",
        infer="zoo.inference:classify",
        make_data=f"{_P}.data:make_data",
        train=f"{_P}.train:train",
        evaluate=f"{_P}.train:evaluate",
    )
    for name, (title, paper) in _PAPERS.items()
))
