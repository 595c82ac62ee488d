"""GLSCL: text-video retrieval with global-local semantic consistent learning. Declaration only."""
from zoo.plugin import Input, Method, Option, Plugin, Variant

_P = "zoo_plugins.glscl"

plugin = Plugin(Method(
    "glscl",
    task="retrieval (text-video)",
    title="GLSCL",
    paper="https://arxiv.org/abs/2405.12710",
    license="Apache-2.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "64-d frozen synthetic embeddings, 4 shared queries, 1 decoder layer"),
        Variant("paper", f"{_P}.config:paper", "CLIP ViT-B/32 embeddings (512-d), 12 frames, 32 words, 8 shared "
                "queries, 3 shared decoder layers (8 heads)"),
    ],
    inputs=[Input("text_tokens", ("B", "L", "D"), "float", "frozen text token embeddings"),
            Input("text_mask", ("B", "L"), "float", "1 for real tokens, 0 for padding"),
            Input("text_cls", ("B", "D"), "float", "frozen sentence ([CLS]/EOT) embeddings"),
            Input("video_frames", ("B", "T", "D"), "float", "frozen frame embeddings"),
            Input("video_mask", ("B", "T"), "float", "1 for real frames, 0 for padding")],
    options=[Option("k", "int", 5, "videos to return per caption", hooks=("infer",))],
    capabilities=("cpu", "cuda", "retrieval", "video", "text"),
    summary="A parameter-free text-conditioned pooling of frames (global) plus learnable queries shared by both "
            "modalities (local), kept consistent across modalities (ICL) and diverse within one (IDL).",
    build=f"{_P}.model:build",
    example_inputs=f"{_P}.infer:example_inputs",
    infer=f"{_P}.infer:infer",
    make_data=f"{_P}.train:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
))
