"""Variant configs of GCD (no torch here). ``tiny`` runs on a CPU in seconds; ``paper`` is the published setting."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LossWeights:
    """Weights of the total loss ``L_simple + L_geo + lambda_nce * L_nce`` (spec §1.4).

    ``paper``: the blog's values (lambda_foot 0.005, lambda_nce 0.001, p = 0.5, 10 negatives);
    ``code``: the public code's README run (lambda_foot 5.0, lambda_nce 1e-5, p = 0.5, 8 negatives).
    """

    simple: float = 1.0
    pos: float = 1.0
    vel: float = 1.0
    foot: float = 0.005
    nce: float = 0.001


PAPER_WEIGHTS = LossWeights()
CODE_WEIGHTS = LossWeights(simple=1.0, pos=1.0, vel=1.0, foot=5.0, nce=1e-5)


@dataclass(frozen=True)
class GCDConfig:
    """Architecture, diffusion, loss and recipe knobs of GCD.

    Architecture (spec §1.3): ``d_model``/``heads``/``ff_dim`` of every attention block, ``layers`` stacked
    (Music-Motion Transformer + Group Global Attention + Group Modulation) blocks, ``music_layers`` music-encoder
    layers, ``mapping_layers`` of the mapping network MLP_8, ``time_mlp_layers`` hidden layers of the timestep MLP,
    ``contrastive_layers`` blocks of the contrastive encoder f(x, w).
    """

    # data
    music_features: str = "librosa-compact"  # extractor for audio files (zoo.dance.music.get_extractor)
    music_dim: int = 35
    motion_dim: int = 151
    max_dancers: int = 3
    frames: int = 30  # training window / long-sequence chunk length
    fps: int = 30
    # architecture
    d_model: int = 64
    heads: int = 4
    ff_dim: int = 128
    layers: int = 2
    music_layers: int = 1
    mapping_layers: int = 2
    time_mlp_layers: int = 3
    contrastive_layers: int = 1
    dropout: float = 0.0
    # diffusion
    diffusion_steps: int = 50
    schedule: str = "cosine"
    ddim_steps: int = 10
    guidance_form: str = "mean"  # "mean" (the blog: mu + gamma Sigma grad log f) or "score" (the code's DDIM path)
    cfg_drop_prob: float = 0.0  # classifier-free guidance training (public code: 0.2; the blog has none)
    cfg_scale: float = 1.0
    # contrastive learning
    num_negatives: int = 2
    replace_prob: float = 0.5
    negatives: str = "redenoise"  # "redenoise" (blog) or "swap_pred" (public code default)
    temperature: float = 1.0
    encoder_pool: str = "frames"  # f's readout: "frames" (blog: mean of the output sequence), "tokens" (also the
    # appended time-aware tokens), "first" (public code: token 0)
    velocity_space: str = "joints"  # "joints" (FK velocities) or "features" (public code: 147-d feature deltas)
    weights: LossWeights = field(default_factory=LossWeights)
    # recipe (batch_size is per device: a run on `devices` processes optimises devices * batch_size per step)
    steps: int = 300
    batch_size: int = 8
    devices: int = 1
    lr: float = 2e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    grad_clip: float | None = 1.0
    ema_decay: float | None = None
    # synthetic data
    train_size: int = 256
    test_size: int = 32
    # inference
    overlap: float = 0.5


def global_batch(cfg: GCDConfig) -> int:
    """Samples per optimiser step when trained on ``cfg.devices`` processes (``paper``: 4 x 64 = 256)."""
    return cfg.devices * cfg.batch_size


def tiny() -> GCDConfig:
    """CPU variant: d=64, 4 heads, 2 blocks, 3 dancers, 1-s windows at 30 FPS, 50 diffusion steps, DDIM 10."""
    return GCDConfig()


def paper() -> GCDConfig:
    """The published configuration (spec §1.3, §1.5): d=512, 8 heads, FF 1024, L=5, 2 music layers, MLP_8,
    Jukebox 4800-d music, 5 dancers (public code), 150-frame windows, M=1000 cosine, DDIM 50, Adam 1e-4, batch 64
    per GPU on 4 GPUs (256 per step; run with ``torchrun --nproc_per_node 4 -m zoo train gcd --variant paper``)."""
    return GCDConfig(
        music_features="file", music_dim=4800, max_dancers=5, frames=150, d_model=512, heads=8, ff_dim=1024,
        layers=5, music_layers=2, mapping_layers=8, contrastive_layers=2, dropout=0.1, diffusion_steps=1000, ddim_steps=50,
        num_negatives=10, steps=500_000, batch_size=64, devices=4, lr=1e-4, grad_clip=None, ema_decay=0.9999,
        train_size=0, test_size=0,
    )
