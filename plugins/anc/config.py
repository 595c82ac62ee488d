"""Variant configs of ANC (frozen dataclasses, JSON-able, no torch import)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from zoo.errors import ConfigError

Arch = Literal["mlp", "vgg16"]
Kernel = Literal["flat", "gaussian"]
Merge = Literal["mode", "mean"]
Clusterer = Literal["meanshift", "kmeans"]

VGG16_CHANNELS: tuple[int, ...] = (64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0)


@dataclass(frozen=True)
class ANCConfig:
    """The network to compress, ANC's clustering, and the train -> compress -> fine-tune recipe.

    Network: arch ``mlp`` (Linear + activation layers; ``hidden`` widths) or ``vgg16`` (CIFAR VGG-16, ``channels``
    with 0 = max-pool, ``batch_norm`` (folded into the convolutions before clustering, so a compressed config has
    it off), classifier ``hidden``); in_features (the flattened input), in_channels /
    image_size (vgg16), num_classes, activation (``relu``; ``sigmoid`` for the paper's DBN units).
    ANC: kernel (mean-shift ``flat`` as scikit-learn / the paper, or ``gaussian``), bandwidth (the paper sets it
    directly: 0.004 / 0.1 for the DBN, 0.05 for VGG-16; ``None``: scikit-learn's estimate with ``quantile``
    per layer), merge (each cluster becomes its mean-shift ``mode``, Eq. 3's p_i, or the ``mean`` of its
    neurons), clusterer (``meanshift``; ``kmeans`` with the same number of clusters per layer is the MSN
    baseline of Table 2).
    Recipe: epochs, finetune_epochs, batch_size, lr, optimizer (SGD with momentum / Adam), weight_decay.
    """

    arch: Arch = "mlp"
    in_features: int = 64
    in_channels: int = 3
    image_size: int = 32
    hidden: tuple[int, ...] = (128, 128)
    channels: tuple[int, ...] = ()
    batch_norm: bool = True
    num_classes: int = 10
    activation: str = "relu"
    kernel: Kernel = "flat"
    bandwidth: float | None = None
    quantile: float = 0.02
    merge: Merge = "mode"
    clusterer: Clusterer = "meanshift"
    epochs: int = 30
    finetune_epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        if self.arch not in ("mlp", "vgg16"):
            raise ConfigError(f"ANCConfig.arch must be 'mlp' or 'vgg16', got {self.arch!r}")
        if not self.hidden or min(self.hidden) < 1 or self.in_features < 1 or self.num_classes < 2:
            raise ConfigError(f"ANCConfig needs hidden widths >= 1, in_features >= 1, num_classes >= 2; got "
                              f"{self.hidden}, {self.in_features}, {self.num_classes}")
        if self.arch == "vgg16" and (not self.channels or self.in_features != self.in_channels * self.image_size ** 2):
            raise ConfigError("ANCConfig vgg16 needs channels and in_features = in_channels * image_size^2")
        if self.activation not in ("relu", "sigmoid"):
            raise ConfigError(f"ANCConfig.activation must be relu or sigmoid, got {self.activation!r}")
        if self.kernel not in ("flat", "gaussian") or self.merge not in ("mode", "mean"):
            raise ConfigError(f"ANCConfig kernel/merge must be flat|gaussian and mode|mean, got {self.kernel!r}, "
                              f"{self.merge!r}")
        if self.clusterer not in ("meanshift", "kmeans"):
            raise ConfigError(f"ANCConfig.clusterer must be meanshift or kmeans, got {self.clusterer!r}")
        if self.bandwidth is not None and self.bandwidth <= 0:
            raise ConfigError(f"ANCConfig.bandwidth must be positive or None, got {self.bandwidth}")
        if not 0 < self.quantile <= 1 or self.epochs < 0 or self.finetune_epochs < 0 or self.lr <= 0:
            raise ConfigError("ANCConfig needs 0 < quantile <= 1, epochs >= 0, finetune_epochs >= 0, lr > 0")


def tiny() -> ANCConfig:
    """An MLP 64-128-128-10 on scikit-learn's 8x8 digits: 30 epochs, flat mean-shift with each layer's bandwidth
    estimated from its neurons (scikit-learn's heuristic at the 2 % quantile: the mean distance to the nearest
    other neuron), 10 fine-tuning epochs."""
    return ANCConfig()


def paper() -> ANCConfig:
    """The MNIST DBN of Table 1: 784-500-500-2000-10 sigmoid units (1,665,010 parameters), flat mean-shift with
    bandwidth 0.1 (compressed network B, 92.81 %), 60 fine-tuning epochs."""
    return ANCConfig(in_features=784, hidden=(500, 500, 2000), activation="sigmoid", bandwidth=0.1, epochs=100,
                     finetune_epochs=60, optimizer="sgd", lr=0.1, batch_size=100)


def vgg16() -> ANCConfig:
    """CIFAR-10 VGG-16 with batch norm and a 512-4096-4096-10 classifier (33.65M parameters, Table 3),
    bandwidth 0.05 (compressed VGGNet-16 A)."""
    return ANCConfig(arch="vgg16", in_features=3 * 32 * 32, hidden=(4096, 4096), channels=VGG16_CHANNELS,
                     bandwidth=0.05, epochs=200, finetune_epochs=40, optimizer="sgd", lr=0.05, batch_size=128,
                     weight_decay=5e-4)
