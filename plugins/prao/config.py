"""PRAO variant configs (no torch import)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PRAOConfig:
    """Pose repair (occlusion segmenter, e-GAN), dual-channel feature extraction, losses and recipe.

    ``output_stride``: the backbone's stride (the paper's ResNet-50 drops its last stride: 16). ``keypoints``:
    COCO's 17. ``edge_decay``: the base of the edge weight matrix ``W = 0.9^mu``. ``distance_weight``: lambda of
    the distance loss (not given in the paper: chosen here).
    """

    backbone: str = "test_resnet"
    output_stride: int = 8
    pretrained: bool = False
    image_size: tuple[int, int] = (64, 32)
    num_classes: int = 24
    keypoints: int = 17
    heatmap_sigma: float = 1.0  # in feature-map cells
    gan_width: int = 16
    edge_decay: float = 0.9
    reconstruction_weight: float = 10.0
    triplet_margin: float = 0.3
    distance_weight: float = 1.0
    # recipe
    repair_steps: int = 150
    steps: int = 200
    batch_size: int = 32
    instances: int = 4
    lr: float = 3.5e-4
    betas: tuple[float, float] = (0.5, 0.999)
    occlusion: float = 0.5  # share of occluded training images


def tiny() -> PRAOConfig:
    """64 x 32 pedestrians, test_resnet at stride 8 (an 8 x 4 map), 24 training identities."""
    return PRAOConfig()


def paper() -> PRAOConfig:
    """ResNet-50 without its last stride at 256 x 128 (a 16 x 8 map of 2048-d), 17 keypoint heatmaps, batch 64,
    Adam (0.5, 0.999) at 3.5e-4, 60 epochs, Occluded-DukeMTMC's 702 training identities."""
    return PRAOConfig(backbone="resnet50", output_stride=16, pretrained=True, image_size=(256, 128),
                      num_classes=702, gan_width=64, repair_steps=20_000, steps=60 * 244, batch_size=64)
