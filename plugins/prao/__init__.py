"""PRAO: anti-occluded person re-identification via pose restoration and dual-channel feature distance
measurement (PRCV 2021). Declaration only."""
from zoo.plugin import Input, Method, Option, Plugin, Variant

_P = "zoo_plugins.prao"

plugin = Plugin(Method(
    "prao-occluded-re-id",
    task="re-ID / metric learning",
    title="PRAO occluded re-ID",
    paper="https://doi.org/10.1007/978-3-030-88013-2_33",
    license="Apache-2.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "64 x 32 synthetic pedestrians, test_resnet at stride 8, small "
                "occlusion segmenter and e-GAN"),
        Variant("paper", f"{_P}.config:paper", "ResNet-50 (last stride 1) at 256 x 128, 17 keypoints, 17 x 2048 "
                "local features, Adam (0.5, 0.999), batch 64, 60 epochs"),
    ],
    inputs=[Input("image", ("B", 3, "H", "W"), "float", "pedestrian crops in [0, 1]")],
    options=[Option("gallery", "any", None, "gallery images (N, 3, H, W) to rank", hooks=("infer",)),
             Option("k", "int", 10, "gallery hits per query", hooks=("infer",)),
             Option("repair", "bool", True, "run the pose repair module (occlusion mask + e-GAN) first",
                    hooks=("infer", "evaluate")),
             Option("ranking", "str", "measure", "rank by the learned distance measure or by feature cosine",
                    hooks=("infer", "evaluate"), choices=("measure", "feature"))],
    capabilities=("cpu", "cuda", "images", "retrieval"),
    summary="Masks occluders and inpaints them with an edge-weighted GAN, then matches pose-guided local "
            "features of two images with a learned distance head (plus ID and triplet losses).",
    build=f"{_P}.model:build",
    example_inputs=f"{_P}.infer:example_inputs",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.train:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
