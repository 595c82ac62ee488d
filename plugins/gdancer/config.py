"""Variant configs of GDanceR (no torch here). ``tiny`` runs on a CPU in seconds; ``paper`` is the configuration
chosen for the published method, whose sizes the blog does not give (every choice is listed in the README)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LossWeights:
    """Weights of the training loss (spec §2.2 item 4: the blog gives no loss, so these are our choices).

    ``L = rec * L_rec + init * L_init + joint * L_J + smooth * E_S + foot * E_F``:

    - ``rec``: L2 between the predicted and ground-truth pose vectors y_t (teacher forcing), frames 1..T-1;
    - ``init``: L2 of the Initial Pose Generator's y_0 against the ground-truth first pose;
    - ``joint``: L2 between FK joint positions (the 3D analogue of the blog's data term E_J);
    - ``smooth``: the blog's smoothness energy E_S on the predicted motion (pose and joint velocities squared);
    - ``foot``: the blog's foot energy E_F (foot joint velocity where the ground truth says the foot is in contact).
    """

    rec: float = 1.0
    init: float = 1.0
    joint: float = 1.0
    smooth: float = 0.01
    foot: float = 0.1


@dataclass(frozen=True)
class GDanceRConfig:
    """Architecture, data and recipe knobs of GDanceR (spec §2.1-§2.2).

    Architecture: ``d_audio`` (d_a), ``music_layers``/``music_heads``/``music_ff`` of the Transformer Music Encoder;
    ``d_hidden`` (d_h) and ``lstm_layers`` of the per-dancer LSTM; ``d_key`` (d_k) of the cross-entity attention
    (d_v = d_h so that z = h + g is defined); ``mlp_hidden`` of the Initial Pose Generator and the MLP decoder;
    ``fusion`` of local and global motion: ``add`` (the paper's choice), ``concat`` or ``none`` (the ablation);
    ``spatial_positions``: which root positions tau enter e_ij, ``previous`` (the dancers' roots at t-1, i.e. where
    they are now) or ``initial`` (the start positions tau_0); ``cross_entity=False`` is the "w/o CA" baseline.
    ``pose_repr``: ``axis_angle`` (the blog's y = [tau; theta], 3 + 72 = 75 numbers) or ``rot6d`` (3 + 144).
    """

    # data
    music_features: str = "librosa-compact"  # extractor for audio files (zoo.dance.music.get_extractor)
    music_dim: int = 35
    max_dancers: int = 3
    frames: int = 30  # training window (frames at 30 FPS)
    fps: int = 30
    pose_repr: str = "axis_angle"
    root_height: float = 0.9  # default root height of generated line formations (CLI inputs)
    # architecture
    d_audio: int = 32
    music_layers: int = 1
    music_heads: int = 2
    music_ff: int = 64
    d_hidden: int = 32
    lstm_layers: int = 1
    d_key: int = 32
    mlp_hidden: int = 64
    fusion: str = "add"
    spatial_positions: str = "previous"
    cross_entity: bool = True
    dropout: float = 0.0
    root_residual: bool = True  # decoder's root channels = displacement from y_{t-1}'s root (False: the blog's literal y_t = MLP)
    input_noise: float = 0.0  # std of Gaussian noise on the teacher-forced inputs y_{t-1} (option, see README)
    # scheduled sampling (Bengio et al. 2015; option): each LSTM input y_{t-1} is the model's OWN previous output
    # with probability p instead of the ground truth; p grows linearly from 0 to `scheduled_sampling` over the
    # first `scheduled_sampling_ramp` fraction of the training steps
    scheduled_sampling: float = 0.0
    scheduled_sampling_ramp: float = 0.5
    weights: LossWeights = field(default_factory=LossWeights)
    # recipe
    steps: int = 300
    batch_size: int = 8
    lr: float = 3e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    grad_clip: float | None = 1.0
    # synthetic data (same sizes as gcd-tiny so `zoo eval gdancer-tiny gcd-tiny` compares on the same dances)
    train_size: int = 256
    test_size: int = 32


def tiny() -> GDanceRConfig:
    """CPU variant (spec §2.5): d_a = d_h = d_k = 32, LSTM hidden 32, a 1-layer music encoder, 3 dancers,
    1-s windows at 30 FPS, 35-d librosa features; Adam 3e-3, batch 8, 300 steps."""
    return GDanceRConfig()


def paper() -> GDanceRConfig:
    """The configuration used for the paper setting. The blog gives no sizes; chosen here (see README): the 438-d
    librosa features the blog names, d_a = d_h = d_k = 512, a 2-layer 8-head music encoder with FF 1024, one LSTM
    layer, MLP hidden 512, 5 dancers per window, 150-frame (5 s) windows, Adam 1e-4, batch 32, 100k steps."""
    return GDanceRConfig(
        music_features="librosa-438", music_dim=438, max_dancers=5, frames=150, d_audio=512, music_layers=2,
        music_heads=8, music_ff=1024, d_hidden=512, lstm_layers=1, d_key=512, mlp_hidden=512, dropout=0.1,
        steps=100_000, batch_size=32, lr=1e-4, grad_clip=1.0, train_size=0, test_size=0,
    )
