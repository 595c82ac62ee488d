"""Variant configs of NHL (neuro-modulated Hebbian learning for fully test-time adaptation, Tang et al., CVPR
2023): frozen dataclasses, no torch import."""
from __future__ import annotations

from dataclasses import dataclass

from zoo.errors import ConfigError

ADAPTS: tuple[str, ...] = ("source", "norm", "hebbian", "modulator", "nhl")
CORRUPTIONS: tuple[str, ...] = ("noise", "blur", "noise+blur")


@dataclass(frozen=True)
class NHLConfig:
    """Source network, source training, the corrupted test stream and the test-time adaptation.

    Network: ``conv1`` (the Hebbian layer) -> neuro-modulator (1x1 convolution, identity at the start) -> BN -> ReLU
    -> ``conv2`` -> BN -> ReLU -> 2x2 max-pool -> global average pool -> linear classifier.
    Adaptation, per mini-batch of the unlabelled stream, before predicting it: (1) soft Hebbian update of ``conv1``
    from the batch's patches (soft winner-take-all with ``temperature``, rate ``hebb_lr``; ``keep_norm`` keeps
    each filter's source norm), (2) one step of the neuro-modulator on the entropy of the predictions (rate
    ``modulator_lr``; the classifier and everything else stay fixed), then (3) predict. ``norm_stats="test"``
    normalises with the test batch's statistics (fully test-time adaptation), ``"source"`` with the stored ones.
    ``adapt`` picks what adapts: ``source`` (nothing), ``norm`` (statistics only), ``hebbian``, ``modulator``,
    ``nhl`` (both).
    """

    in_channels: int = 1
    image_size: int = 8
    num_classes: int = 10
    channels: tuple[int, int] = (16, 32)
    # source training (back-propagation on clean data)
    source_steps: int = 400
    source_lr: float = 1e-2
    batch_size: int = 64
    # the test stream
    corruption: str = "noise"
    noise_std: float = 0.5
    blur_sigma: float = 1.0
    stream_batch: int = 64
    # test-time adaptation
    adapt: str = "nhl"
    norm_stats: str = "test"
    hebb_lr: float = 0.2
    temperature: float = 0.1
    keep_norm: bool = True
    modulator_lr: float = 1e-3

    def __post_init__(self) -> None:
        if self.adapt not in ADAPTS:
            raise ConfigError(f"unknown adaptation {self.adapt!r}; expected one of {ADAPTS}")
        if self.corruption not in CORRUPTIONS:
            raise ConfigError(f"unknown corruption {self.corruption!r}; expected one of {CORRUPTIONS}")
        if self.norm_stats not in ("test", "source"):
            raise ConfigError(f"norm_stats must be 'test' or 'source', got {self.norm_stats!r}")
        if self.temperature <= 0 or self.stream_batch < 2:
            raise ConfigError("NHL needs temperature > 0 and stream batches of at least 2 samples")


def tiny() -> NHLConfig:
    """Digits 8x8, a 2-conv source CNN, a stream of digits with Gaussian noise (sigma 0.5)."""
    return NHLConfig()


def blur() -> NHLConfig:
    """The same source model; a stream of blurred (sigma 1) and noisy (sigma 0.3) digits."""
    return NHLConfig(corruption="noise+blur", noise_std=0.3)


def paper() -> NHLConfig:
    """32x32 RGB inputs (the CIFAR-10-C setting) with a wider source CNN (64, 128) — our stand-in: the paper's
    backbone sizes are not in our sources."""
    return NHLConfig(in_channels=3, image_size=32, channels=(64, 128), source_steps=20000, batch_size=128,
                     stream_batch=200)
