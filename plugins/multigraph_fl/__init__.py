"""MultigraphFL (ICCV 2023): multigraph topology for cross-silo federated learning. Declaration only."""
from zoo.plugin import Input, Method, Option, Plugin, Variant

_P = "zoo_plugins.multigraph_fl"
_DESIGN = ("infer", "prepare_inputs")

plugin = Plugin(Method(
    "multigraph-fl",
    task="federated-topology-design",
    title="Reducing Training Time in Cross-Silo Federated Learning using Multigraph Topology (ICCV 2023)",
    paper="https://openaccess.thecvf.com/content/ICCV2023/html/Do_Reducing_Training_Time_in_Cross-Silo_"
          "Federated_Learning_Using_Multigraph_Topology_ICCV_2023_paper.html",
    license="MIT",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "6 silos on a synthetic network, t=3, MLP on digits"),
        Variant("paper", f"{_P}.config:paper", "FEMNIST CNN on Exodus (79 silos), t=5, 10 Gbps, 6,400 rounds"),
    ],
    inputs=[Input("distance", ("N", "N"), "float", "underlay link distances (km; 0 = no link), symmetric, connected")],
    options=[
        Option("network", "str", None, "underlay: a bundled name (gaia, amazon_us, geantdistance, exodus, ebone), "
               "toy:N or a .gml file (default: the variant's)", hooks=_DESIGN),
        Option("model", "str", None, "the trained model's profile for the time model (femnist, inaturalist, "
               "sent140); alias: dataset"),
        Option("dataset", "str", None, "same as model"),
        Option("size", "str", "paper", "model size from the paper's table or counted from the parameters",
               choices=("paper", "params")),
        Option("t", "int", None, "maximum edges between two silos (t_max)"),
        Option("preset", "str", None, "named time model: 'published' (the public code's; reproduces the paper's "
               "cycle-time table) or 'blog' (the blog's formulas)", choices=("published", "blog")),
        Option("cycle_time", "str", None, "cycle-time statistic", choices=("max", "cycle_mean")),
        Option("core_bps", "float", None, "core-network bandwidth term (bits/s) of the public code's time model"),
        Option("up_bps", "float", None, "silo up/down link bandwidth (bits/s)"),
        Option("recursion", "str", None, "delay recursion (see README)"),
        Option("rounds", "int", None, "communication rounds to simulate"),
        Option("baselines", "bool", True, "also design RING/STAR/MST/MATCHA... for comparison"),
    ],
    capabilities=("cpu", "federated"),
    kernels=("mix",),
    summary="Overlay designs (RING, STAR, MATCHA, MATCHA+, MST, delta-MBST), the multigraph and its graph states "
            "with isolated nodes, cycle-time simulation and DPASGD over the states.",
    build=f"{_P}.model:build_model",
    example_inputs=f"{_P}.underlay:example_inputs",
    prepare_inputs=f"{_P}.underlay:prepare_inputs",
    infer=f"{_P}.infer:infer",
    save_outputs=f"{_P}.infer:save",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train_dpasgd",
    evaluate=f"{_P}.train:evaluate",
))
