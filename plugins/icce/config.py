"""Variant configs of the ICCE experiments (frozen dataclasses, JSON-able, no torch import)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from zoo.errors import ConfigError

LOSSES: tuple[str, ...] = ("icce", "ce", "mae", "gce")
NOISES: tuple[str, ...] = ("uniform", "class")


@dataclass(frozen=True)
class ICCEConfig:
    """Classifier, loss, label noise and recipe.

    Classifier: ``arch`` ``cnn`` (small CNN; ``width``, ``hidden``) or ``cifar_resnet`` (Keras' ResNet v1 with
        ``depth`` 44 or 56, the paper's networks); in_channels, image_size, num_classes.
    Loss: ``loss`` ``icce`` (the method) or a baseline ``ce`` / ``mae`` / ``gce``; ``T`` (ICCE's exponent, paper 4;
        T = 0 is CE); ``form`` ``exact`` (the loss value of Eq. 5 by its series, whose gradient is Eq. 6) or
        ``weighted`` (the detached-weight form ``exp(T (p_y - 0.5)) * CE``: same gradient, different value);
        ``gce_q`` (GCE's q, 0.7 as in Zhang & Sabuncu).
    Label noise (training labels only): ``noise`` ``uniform`` (each label replaced by one of the other classes
        with probability ``noise_rate``) or ``class`` (flipped to the next class circularly with probability
        ``noise_rate``), seeded by ``noise_seed``.
    Recipe: optimizer, lr, batch_size, epochs (or ``steps``), lr divided by 10 after ``decay_epoch`` epochs.
    """

    arch: Literal["cnn", "cifar_resnet"] = "cnn"
    depth: int = 56
    in_channels: int = 1
    image_size: int = 8
    num_classes: int = 10
    width: int = 8
    hidden: int = 64
    loss: str = "icce"
    T: float = 4.0
    form: Literal["exact", "weighted"] = "exact"
    gce_q: float = 0.7
    noise: str = "uniform"
    noise_rate: float = 0.4
    noise_seed: int = 0
    optimizer: str = "adam"
    lr: float = 1e-2
    batch_size: int = 128
    epochs: int = 20
    steps: int | None = None
    decay_epoch: int | None = None

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ConfigError(f"ICCEConfig.loss must be one of {LOSSES}, got {self.loss!r}")
        if self.noise not in NOISES:
            raise ConfigError(f"ICCEConfig.noise must be one of {NOISES}, got {self.noise!r}")
        if self.form not in ("exact", "weighted"):
            raise ConfigError(f"ICCEConfig.form must be 'exact' or 'weighted', got {self.form!r}")
        if self.arch not in ("cnn", "cifar_resnet"):
            raise ConfigError(f"ICCEConfig.arch must be 'cnn' or 'cifar_resnet', got {self.arch!r}")
        if not 0.0 <= self.noise_rate < 1.0:
            raise ConfigError(f"ICCEConfig.noise_rate must be in [0, 1), got {self.noise_rate}")
        if self.T < 0:
            raise ConfigError(f"ICCEConfig.T must be >= 0, got {self.T}")
        if not 0.0 < self.gce_q <= 1.0:
            raise ConfigError(f"ICCEConfig.gce_q must be in (0, 1], got {self.gce_q}")
        if self.arch == "cifar_resnet" and (self.depth - 2) % 6:
            raise ConfigError(f"ICCEConfig.depth must be 6n + 2 (44, 56, ...), got {self.depth}")


def tiny() -> ICCEConfig:
    """Digits (8x8) with 40 % uniform label noise, small CNN (8/16 conv, 64 hidden), T = 4, Adam 1e-2, batch 128,
    20 epochs (220 steps)."""
    return ICCEConfig()


def paper() -> ICCEConfig:
    """CIFAR-10: Keras ResNet-56 v1 (0.86M parameters), T = 4, Adam lr 1e-4 divided by 10 after 100 epochs
    (the paper: "SGD with Ada[m] and an initial learning rate of 0.0001"; total epochs not given: 200 is ours)."""
    return ICCEConfig(arch="cifar_resnet", depth=56, in_channels=3, image_size=32, lr=1e-4, batch_size=128,
                      epochs=200, decay_epoch=100)


def resnet44() -> ICCEConfig:
    """The paper's other network: Keras ResNet-44 v1 on CIFAR-10."""
    return replace(paper(), depth=44)
