"""GDanceR: Music-Driven Group Choreography (CVPR 2023), with the AIOZ-GDANCE dataset tools. Declaration only.

Infer inputs: ``music [B, T, F]`` (30 FPS features, F = the variant's ``music_dim``), ``positions [B, N, 3]`` (the
dancers' initial root positions tau_0), optional ``dancer_mask [B, N]``, ``frame_mask [B, T]`` and ``beats [B, T]``.
Output: ``pose [B, N, T, P]``, ``motion [B, N, T, 151]``, ``mask``, ``smpl_poses [B, N, T, 72]``, ``root_trans``,
``joints [B, N, T, 24, 3]``; T is the music's length (any), N any number of dancers.
Dataset statistics: ``zoo data stats gdance DIR`` (:mod:`zoo.dance.stats`).
"""
from zoo.dance.options import AUDIO_OPTIONS
from zoo.plugin import Input, Method, Option, Plugin, Variant

_P = "zoo_plugins.gdancer"

plugin = Plugin(Method(
    "gdancer",
    task="dance-generation",
    title="Music-Driven Group Choreography (GDanceR, CVPR 2023)",
    paper="https://arxiv.org/abs/2303.12337",
    license="CC-BY-NC-4.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny",
                "d=32, 1 music layer, LSTM 32, 3 dancers, 1-s windows, 35-d librosa; CPU seconds"),
        Variant("paper", f"{_P}.config:paper",
                "438-d librosa, d=512, 2 music layers, LSTM 512, 5 dancers, 5-s windows (sizes chosen: the blog "
                "gives none)"),
    ],
    inputs=[
        Input("music", ("B", "T", "F"), "float", "music features at 30 FPS [B, T, music_dim]"),
        Input("positions", ("B", "N", 3), "float", "initial root positions tau_0 of the N dancers"),
        Input("dancer_mask", ("B", "N"), "bool", "real dancers (default: all)", optional=True),
        Input("frame_mask", ("B", "T"), "bool", "valid music frames", optional=True),
        Input("beats", ("B", "T"), "float", "music beat one-hot, passed to the outputs", optional=True),
    ],
    options=[
        *AUDIO_OPTIONS,
        Option("dancers", "int", None, "dancers in a line (default: the variant's maximum)",
               hooks=("prepare_inputs",)),
        Option("spacing", "float", 1.0, "metres between dancers in the line", hooks=("prepare_inputs",)),
        Option("positions", "str", None, "initial positions 'x,y,z;x,y,z;...' (instead of a line)",
               hooks=("prepare_inputs",)),
        Option("limit", "int", None, "evaluate on at most this many groups", hooks=("evaluate",)),
    ],
    capabilities=("cpu", "cuda", "audio", "motion", "generative"),
    kernels=("rot6d_to_matrix", "forward_kinematics"),
    summary="music + initial positions -> N-dancer SMPL motion, autoregressive LSTM + cross-entity attention",
    build=f"{_P}.model:GDanceR",
    example_inputs=f"{_P}.data:example_inputs",
    infer=f"{_P}.infer:generate",
    prepare_inputs=f"{_P}.data:inputs_from_audio",
    save_outputs=f"{_P}.data:save_outputs",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.evaluate:evaluate_hook",
    preprocessing=f"{_P}.data:preprocessing",
))
