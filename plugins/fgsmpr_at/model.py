"""The classifiers FGSMPR trains: Wong et al.'s MNIST CNN (the paper's MNIST network) and PreAct ResNet-18."""
from __future__ import annotations

from torch import nn

from zoo_plugins.fgsmpr_at.config import FGSMPRConfig


def conv_out(size: int) -> int:
    """Spatial size after a 4x4 convolution with stride 2 and padding 1."""
    return (size + 2 - 4) // 2 + 1


class MnistCNN(nn.Sequential):
    """conv(16, 4x4, /2) - ReLU - conv(32, 4x4, /2) - ReLU - FC(hidden) - ReLU - FC(classes) (Wong et al. 2020;
    the FC input is ``32 * s * s`` with ``s`` the size after the two convolutions: 7 for 28x28 MNIST)."""

    def __init__(self, config: FGSMPRConfig) -> None:
        c1, c2 = 16 * config.width, 32 * config.width
        side = conv_out(conv_out(config.image_size))
        super().__init__(
            nn.Conv2d(config.in_channels, c1, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(c1, c2, 4, stride=2, padding=1), nn.ReLU(), nn.Flatten(),
            nn.Linear(c2 * side * side, config.hidden), nn.ReLU(), nn.Linear(config.hidden, config.num_classes),
        )
        self.config = config


def preact_resnet18(config: FGSMPRConfig) -> nn.Module:
    """PreAct ResNet-18 for 32x32 images: timm's ``resnetv2_18`` (pre-activation basic blocks, final BN-ReLU)
    with the CIFAR stem (one 3x3 stride-1 convolution, no max-pool) in place of the 7x7/2 stem + pool."""
    from zoo.compat import import_timm

    timm = import_timm()
    net = timm.create_model("resnetv2_18", pretrained=False, num_classes=config.num_classes,
                            in_chans=config.in_channels)
    net.stem = nn.Conv2d(config.in_channels, 64, kernel_size=3, stride=1, padding=1, bias=False)
    return net


def build(config: FGSMPRConfig) -> nn.Module:
    """The variant's classifier (logits), carrying its ``config``."""
    if config.arch == "mnist_cnn":
        return MnistCNN(config)
    net = preact_resnet18(config)
    net.config = config  # type: ignore[assignment]
    return net
