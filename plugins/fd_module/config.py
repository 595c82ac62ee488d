"""Variant configs of FDNet (frozen dataclasses, JSON-able, no torch import)."""
from __future__ import annotations

from dataclasses import dataclass

from zoo.errors import ConfigError


@dataclass(frozen=True)
class FDConfig:
    """Backbone, FD switch and training recipe.

    Backbone: ``backbone`` ``cifar`` builds He et al.'s CIFAR ResNet (3x3 stem, three stages of ``(depth - 2) / 6``
        basic blocks of ``widths`` channels) from timm's ResNet class; any other value is a timm model name
        (``resnet50``, ``seresnet50``, ``resnext50_32x4d``, ``resnet18``...) created without pretrained weights.
    FD: ``fd`` adds the FD module to every residual block (``False``: the plain baseline); ``beta`` is the
        smooth-L1 threshold of Eq. 3 (1 in the paper).
    Data: in_channels, image_size, num_classes.
    Recipe: SGD with momentum (the paper follows He et al.), lr divided by 10 at ``milestones`` (fractions of the
        run), ``steps`` optimizer steps of ``batch_size`` images.
    """

    backbone: str = "cifar"
    depth: int = 8
    widths: tuple[int, ...] = (8, 16, 32)
    fd: bool = True
    beta: float = 1.0
    in_channels: int = 1
    image_size: int = 8
    num_classes: int = 10
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 1e-4
    batch_size: int = 64
    steps: int = 400
    milestones: tuple[float, ...] = (0.5, 0.75)

    def __post_init__(self) -> None:
        if self.backbone == "cifar" and (self.depth - 2) % 6:
            raise ConfigError(f"a CIFAR ResNet has depth 6n + 2, got {self.depth}")
        if self.backbone == "cifar" and len(self.widths) != 3:
            raise ConfigError(f"a CIFAR ResNet has three stages, got widths {self.widths}")
        if self.beta <= 0:
            raise ConfigError(f"beta must be positive, got {self.beta}")

    @property
    def blocks_per_stage(self) -> int:
        """``n`` of a CIFAR ResNet of depth ``6n + 2``."""
        return (self.depth - 2) // 6


def tiny() -> FDConfig:
    """FD-ResNet-8 with widths 8/16/32 on scikit-learn's 8x8 digits (seconds on a CPU)."""
    return FDConfig()


def cifar() -> FDConfig:
    """FD-ResNet-110 on CIFAR-10 (Table 1): widths 16/32/64, 18 blocks per stage; He et al.'s recipe: SGD 0.1,
    momentum 0.9, weight decay 1e-4, batch 128, 64k iterations, lr / 10 at 32k and 48k."""
    return FDConfig(depth=110, widths=(16, 32, 64), in_channels=3, image_size=32, lr=0.1, batch_size=128,
                    steps=64_000, milestones=(0.5, 0.75))


def paper() -> FDConfig:
    """FD-ResNet-50 on ImageNet (Tables 2, 3, 5): SGD 0.1, momentum 0.9, batch 256, 90 epochs (lr / 10 at 30 and
    60), weight decay 1e-4 as in ResNet, 224x224 crops."""
    return FDConfig(backbone="resnet50", depth=50, widths=(64, 128, 256, 512), in_channels=3, image_size=224,
                    num_classes=1000, lr=0.1, batch_size=256, steps=90 * 5005, milestones=(1 / 3, 2 / 3))


def se_fd() -> FDConfig:
    """SENet-50 + FD (Table 5's best ResNet-50 row, 22.84 % top-1 error): timm's seresnet50 with FD blocks."""
    return FDConfig(backbone="seresnet50", depth=50, widths=(64, 128, 256, 512), in_channels=3, image_size=224,
                    num_classes=1000, lr=0.1, batch_size=256, steps=90 * 5005, milestones=(1 / 3, 2 / 3))
