"""BEVPlace: LiDAR place recognition from bird's-eye-view images. Declaration only."""
from zoo.plugin import Input, Method, Option, Plugin, Variant

_P = "zoo_plugins.bevplace"

plugin = Plugin(Method(
    "bevplace",
    task="retrieval (LiDAR place recognition)",
    title="BEVPlace",
    paper="https://arxiv.org/abs/2302.14325",
    license="MIT",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "31 x 31 BEV (12 m, 0.8 m cells), 8 rotations x 1 scale, 32-d local "
                "features, 8-cluster NetVLAD"),
        Variant("paper", f"{_P}.config:paper", "201 x 201 BEV (40 m, 0.4 m), 5 scales x 5 rotations, 128-d local "
                "features, 64-cluster NetVLAD (8192-d)"),
        Variant("plain", f"{_P}.config:plain", "the same network without the group (one rotation, one scale): the "
                "non-equivariant baseline"),
    ],
    inputs=[Input("bev", ("B", 1, "H", "W"), "float", "BEV density images in [0, 1] (zoo.engines.retrieval."
                  "data.places.bev_image)")],
    options=[Option("database", "any", None, "database BEV images (N, 1, H, W) to search", hooks=("infer",)),
             Option("positions", "any", None, "database positions (N, 2) in metres: estimate the query's",
                    hooks=("infer",)),
             Option("k", "int", 5, "places to return", hooks=("infer", "evaluate"))],
    capabilities=("cpu", "cuda", "retrieval", "point-clouds"),
    summary="Group (rotation x scale) features of a BEV image, made rotation-invariant by a bilinear group "
            "convolution, aggregated by NetVLAD; the feature distance also estimates the query's position.",
    build=f"{_P}.model:build",
    example_inputs=f"{_P}.infer:example_inputs",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.train:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
