"""GLAMOR-Net (Le et al., "Global-Local Attention for Context-aware Emotion Recognition"): a face crop and the
whole image with the face masked -> 7 emotion classes, with a face-guided attention map over the context.
Declaration only."""
from zoo.plugin import Input, Method, Option, Plugin, Variant

_P = "zoo_plugins.glamor_net"

plugin = Plugin(Method(
    "glamor-net",
    task="emotion-recognition",
    title="Global-Local Attention for Context-aware Emotion Recognition (GLAMOR-Net)",
    paper="Le et al., Global-Local Attention for Emotion Recognition; code: https://github.com/minhnhatvt/glamor-net",
    license="MIT",
    variants=[
        Variant("tiny", f"{_P}.config:tiny", "32x32 faces, 48x48 contexts, [8,16,32,32,32] filters"),
        Variant("paper", f"{_P}.config:paper", "96x96 faces, 112x112 contexts, 256-channel maps"),
        Variant("resnet18", f"{_P}.config:paper_resnet18",
                "ResNet-18 trunk per branch (the paper's 89.88 % CAER-S model), 112x112 faces, 224x224 contexts"),
    ],
    inputs=[
        Input("face", ("B", 3, "F", "F"), "float", "face crops in [0, 1], F = the variant's face_size"),
        Input("context", ("B", 3, "S", "S"), "float",
              "whole images with the face box set to 0, in [0, 1], S = the variant's context_size"),
    ],
    options=[Option("image", "path", None, "a whole scene image", hooks=("prepare_inputs",)),
             Option("face", "str", None, "the face box x,y,w,h in pixels", hooks=("prepare_inputs",))],
    capabilities=("cpu", "cuda", "images"),
    summary="Two 5-layer conv encoders; GLA scores each context cell from [v_f; v_ij]; adaptive fusion.",
    build=f"{_P}.model:GlamorNet",
    example_inputs=f"{_P}.infer:example_inputs",
    infer=f"{_P}.infer:run",
    prepare_inputs=f"{_P}.infer:prepare_inputs",
    save_outputs=f"{_P}.infer:save_outputs",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.train:evaluate",
    preprocessing=f"{_P}.infer:preprocessing",
))
