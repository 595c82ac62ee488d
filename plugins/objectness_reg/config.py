"""Variant configs of objectness regularisation (frozen dataclasses, JSON-able, no torch import)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from zoo.errors import ConfigError


@dataclass(frozen=True)
class ORConfig:
    """Detector, defence, attack and recipe (paper symbols in brackets).

    Detector: torchvision RetinaNet (one foreground class: its sigmoid class score is the objectness, as for a
        one-class YOLO), randomly initialised. ``backbone`` ``tiny`` (a small CNN with stride-8 features of
        ``width`` channels) or ``resnet50_fpn`` (torchvision's RetinaNet ResNet-50-FPN); ``image_size``,
        ``anchor_sizes``, ``aspect_ratios`` (tiny backbone), ``nms_thresh``, ``detections`` per image.
    Defence (Eq. 4-7): ``tau`` [tau] the objectness threshold of post-processing (0.5), ``eps`` [epsilon]
        (0.01 for YOLOv3, 0.05 for YOLOv4); ``r = 1 / (4 tau (1 - tau))``, ``b = ln(tau / (1 - tau)) - eps``.
    Attack (Sect. 2.1, 3.2): vanishing patches centred on the clean detections, ``patch_pixels`` [l0 budget] in
        total (split evenly over the objects), ``attack_steps``, ``step_schedule`` ``decay`` (8/255 halved at
        30, 90, 190) or ``fixed`` (``fixed_step`` = 1/255); loss ``max(o(x'))``; adaptive (the defended model is
        attacked through its defence). ``iou`` the IoU for matching detections in the vanishing rate.
    Synthetic task: ``objects`` = (min, max) objects per image, ``object_size`` = (min, max) side in pixels.
    Recipe: Adam ``lr``, ``batch_size``, ``steps``.
    """

    backbone: str = "tiny"
    num_classes: int = 1
    image_size: int = 64
    width: int = 32
    anchor_sizes: tuple[int, ...] = (12, 20, 28)
    aspect_ratios: tuple[float, ...] = (0.5, 1.0, 2.0)
    nms_thresh: float = 0.5
    detections: int = 20
    tau: float = 0.5
    eps: float = 0.01
    patch_pixels: int = 100
    attack_steps: int = 255
    step_schedule: str = "decay"
    fixed_step: float = 1 / 255
    iou: float = 0.5
    objects: tuple[int, int] = (1, 3)
    object_size: tuple[int, int] = (14, 26)
    lr: float = 2e-3
    batch_size: int = 16
    steps: int = 600

    def __post_init__(self) -> None:
        if not 0.0 < self.tau < 1.0:
            raise ConfigError(f"ORConfig.tau must be in (0, 1), got {self.tau}")
        if self.backbone not in ("tiny", "resnet50_fpn"):
            raise ConfigError(f"ORConfig.backbone must be 'tiny' or 'resnet50_fpn', got {self.backbone!r}")
        if self.step_schedule not in ("decay", "fixed"):
            raise ConfigError(f"ORConfig.step_schedule must be 'decay' or 'fixed', got {self.step_schedule!r}")
        if self.backbone == "tiny" and self.image_size % 8:
            raise ConfigError(f"ORConfig.image_size must be a multiple of 8 for the tiny backbone")
        if not 1 <= self.objects[0] <= self.objects[1]:
            raise ConfigError(f"ORConfig.objects must be (min, max) with 1 <= min <= max, got {self.objects}")

    @property
    def r(self) -> float:
        """Range control ``r = 1 / (4 tau (1 - tau))`` (Eq. 6)."""
        return 1.0 / (4 * self.tau * (1 - self.tau))

    @property
    def b(self) -> float:
        """Balancing bias ``b = S^{-1}(tau) - eps = ln(tau / (1 - tau)) - eps`` (Eq. 7)."""
        return math.log(self.tau / (1 - self.tau)) - self.eps


def tiny() -> ORConfig:
    """64x64 synthetic scenes with 1-3 objects, a small-CNN RetinaNet, tau 0.5, eps 0.01; patches of 100 pixels
    in total (2.4 % of the image, the paper's 3500 / 416^2 = 2.0 %), 255 decaying-step iterations."""
    return ORConfig()


def paper() -> ORConfig:
    """The paper's defence and strongest attack on a torchvision detector at 416x416: tau 0.5, eps 0.01
    (YOLOv3), 3500-pixel patches, 255 iterations with steps 8/255 halved at 30/90/190. The paper's YOLOv3/v4
    (Darknet, COCO-pretrained) are not in torchvision: RetinaNet ResNet-50-FPN (91 COCO classes) stands in."""
    return ORConfig(backbone="resnet50_fpn", num_classes=91, image_size=416, patch_pixels=3500, steps=0)
