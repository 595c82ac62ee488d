"""GCD: Controllable Group Choreography using Contrastive Diffusion (SIGGRAPH Asia 2023). Declaration only.

Infer inputs: ``music [B, T, F]`` (30 FPS features, F = the variant's ``music_dim``), optional ``n_dancers [B]``,
``frame_mask [B, T]`` and ``beats [B, T]`` (passed through to the outputs for drawing). Output: ``motion
[B, N, T, 151]``, ``mask``, ``smpl_poses [B, N, T, 72]``, ``root_trans``, ``joints [B, N, T, 24, 3]``.
"""
from zoo.dance.options import AUDIO_OPTIONS
from zoo.plugin import Input, Method, Option, Plugin, Variant

_P = "zoo_plugins.gcd"

plugin = Plugin(Method(
    "gcd",
    task="dance-generation",
    title="Controllable Group Choreography using Contrastive Diffusion (GCD, SIGGRAPH Asia 2023)",
    paper="https://doi.org/10.1145/3618356",
    license="CC-BY-NC-4.0",
    variants=[
        Variant("tiny", f"{_P}.config:tiny",
                "d=64, 2 blocks, 3 dancers, 1-s windows, 35-d librosa features; CPU seconds"),
        Variant("paper", f"{_P}.config:paper",
                "d=512, 8 heads, FF 1024, L=5, 2 music layers, MLP_8, Jukebox 4800-d, 5 s"),
    ],
    inputs=[
        Input("music", ("B", "T", "F"), "float", "music features at 30 FPS [B, T, music_dim]"),
        Input("n_dancers", ("B",), "int", "dancers per group (1..max_dancers)", optional=True),
        Input("frame_mask", ("B", "T"), "bool", "valid music frames", optional=True),
        Input("beats", ("B", "T"), "float", "music beat one-hot, passed to the outputs", optional=True),
    ],
    options=[
        *AUDIO_OPTIONS,
        Option("gamma", "float", 0.0, "consistency (> 0) / diversity (< 0) guidance", hooks=("infer", "evaluate")),
        Option("dancers", "int", None, "dancers when n_dancers is not given", hooks=("infer", "prepare_inputs")),
        Option("steps", "int", None, "DDIM steps (default: the variant's)", hooks=("infer", "evaluate")),
        Option("eta", "float", 0.0, "DDIM eta (0: deterministic)"),
        Option("cfg_scale", "float", None, "classifier-free guidance scale on the music"),
        Option("seed", "int", None, "sampling seed", hooks=("infer", "evaluate")),
        Option("limit", "int", None, "evaluate on at most this many groups", hooks=("evaluate",)),
    ],
    capabilities=("cpu", "cuda", "audio", "motion", "generative"),
    kernels=("info_nce", "group_modulation", "rot6d_to_matrix", "forward_kinematics", "geometric_losses"),
    summary="music -> N-dancer SMPL motion by contrastive diffusion with consistency/diversity control",
    build=f"{_P}.model:GCD",
    example_inputs=f"{_P}.data:example_inputs",
    infer=f"{_P}.infer:generate",
    prepare_inputs=f"{_P}.data:inputs_from_audio",
    save_outputs=f"{_P}.data:save_outputs",
    make_data=f"{_P}.data:make_data",
    train=f"{_P}.train:train",
    evaluate=f"{_P}.evaluate:evaluate_hook",
    preprocessing=f"{_P}.data:preprocessing",
))
