"""A torchvision RetinaNet with the objectness-regularisation defence inserted before post-processing."""
from __future__ import annotations

import contextlib
from dataclasses import replace
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from zoo_plugins.objectness_reg.config import ORConfig


class ObjectnessRegularization(nn.Module):
    """``f'_obj = r * S(f_obj) + b`` (Eq. 4) with ``S`` the sigmoid, ``r = 1/(4 tau (1 - tau))`` and
    ``b = ln(tau/(1 - tau)) - eps`` (Eq. 6-7): objectness logits are squashed into ``[b, b + r]``, so after the
    detector's own sigmoid no prediction falls below ``S(b)``, just under the threshold ``tau``."""

    def __init__(self, r: float, b: float) -> None:
        super().__init__()
        self.r, self.b = r, b

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        """The regularised objectness feature."""
        return self.r * torch.sigmoid(logits) + self.b


class DefendedHead(nn.Module):
    """RetinaNet's head whose classification (objectness) logits pass through :class:`ObjectnessRegularization`
    when ``defence`` is on and the model is in eval mode (the defence is training-free)."""

    def __init__(self, head: nn.Module, regularization: ObjectnessRegularization) -> None:
        super().__init__()
        self.inner = head
        self.regularization = regularization
        self.defence = False

    def forward(self, features: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        """The inner head's outputs, with the objectness logits regularised when defended."""
        out = self.inner(features)
        if self.defence and not self.training:
            out = dict(out, cls_logits=self.regularization(out["cls_logits"]))
        return out

    def compute_loss(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        """Training losses of the inner head (the defence plays no part in training)."""
        return self.inner.compute_loss(*args, **kwargs)


class TinyBackbone(nn.Sequential):
    """Three stride-2 conv-ReLU layers (16, 32, ``width`` channels): one stride-8 feature map."""

    def __init__(self, width: int) -> None:
        super().__init__(nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, stride=2, padding=1),
                         nn.ReLU(), nn.Conv2d(32, width, 3, stride=2, padding=1), nn.ReLU())
        self.out_channels = width


def _retinanet(config: ORConfig) -> nn.Module:
    from zoo.compat import import_torchvision

    import_torchvision()
    from torchvision.models.detection import RetinaNet, retinanet_resnet50_fpn
    from torchvision.models.detection.anchor_utils import AnchorGenerator

    common = {"min_size": config.image_size, "max_size": config.image_size, "score_thresh": config.tau,
              "nms_thresh": config.nms_thresh, "detections_per_img": config.detections}
    if config.backbone == "resnet50_fpn":
        return retinanet_resnet50_fpn(weights=None, weights_backbone=None, num_classes=config.num_classes, **common)
    anchors = AnchorGenerator(sizes=(tuple(config.anchor_sizes),), aspect_ratios=(tuple(config.aspect_ratios),))
    return RetinaNet(TinyBackbone(config.width), num_classes=config.num_classes, anchor_generator=anchors,
                     image_mean=[0.0, 0.0, 0.0], image_std=[1.0, 1.0, 1.0], **common)


class Detector(nn.Module):
    """RetinaNet + the defence. ``forward(images, targets)`` is torchvision's (losses in train mode, detections in
    eval mode); :meth:`objectness` gives the per-anchor objectness probabilities the attack minimises."""

    def __init__(self, config: ORConfig) -> None:
        super().__init__()
        self.config = config
        self.net = _retinanet(config)
        self.net.head = DefendedHead(self.net.head, ObjectnessRegularization(config.r, config.b))

    @contextlib.contextmanager
    def defended(self, on: bool = True, eps: float | None = None) -> Iterator[Detector]:
        """Switch the defence on (or off) inside the block; ``eps`` overrides the config's epsilon there."""
        head = self.net.head
        before = (head.defence, head.regularization.b)
        head.defence = on
        if eps is not None:
            head.regularization.b = replace(self.config, eps=eps).b
        try:
            yield self
        finally:
            head.defence, head.regularization.b = before

    def forward(self, images: list[torch.Tensor] | torch.Tensor, targets: list[dict[str, torch.Tensor]] | None = None) -> Any:
        """torchvision's RetinaNet forward on a list (or batch) of ``[3, H, W]`` images in [0, 1]."""
        return self.net(list(images), targets)

    def objectness(self, images: torch.Tensor) -> torch.Tensor:
        """Objectness probabilities ``[B, anchors * classes]`` after the (optional) defence, differentiable in
        the images: ``sigmoid`` of the head's class logits, as post-processing scores them."""
        batch, _ = self.net.transform(list(images))
        features = self.net.backbone(batch.tensors)
        if isinstance(features, torch.Tensor):
            features = {"0": features}
        out = self.net.head(list(features.values()))
        return torch.sigmoid(out["cls_logits"]).flatten(1)


def build(config: ORConfig) -> Detector:
    """The variant's detector (random initialisation), defence off until :meth:`Detector.defended`."""
    return Detector(config)
