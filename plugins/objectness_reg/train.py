"""Training the detector (torchvision's RetinaNet losses) and evaluating clean AP and the vanishing rate with and
without the defence."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.options import TrainOptions
from zoo_plugins.objectness_reg.attack import vanishing_attack
from zoo_plugins.objectness_reg.config import ORConfig
from zoo_plugins.objectness_reg.data import collate
from zoo_plugins.objectness_reg.metrics import average_precision, vanishing_rate
from zoo_plugins.objectness_reg.model import Detector


def loss_fn(model: Detector, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
    """Focal classification + box regression losses of RetinaNet."""
    images, targets = batch
    losses = model(images, targets)
    return sum(losses.values()), {k: float(v.detach()) for k, v in losses.items()}  # type: ignore[return-value]


def train(model: Detector, data: Any, config: ORConfig, options: TrainOptions | None = None,
          callbacks: Sequence[Any] = ()) -> TrainResult:
    """Adam on the synthetic scenes (the defence is training-free: nothing of it is trained)."""
    recipe = Recipe(steps=config.steps, batch_size=config.batch_size, lr=config.lr, optimizer="adam", grad_clip=10.0)
    return fit(model, data, loss_fn, recipe, options or TrainOptions(), collate=collate, callbacks=callbacks)


@torch.no_grad()
def detect(model: Detector, images: torch.Tensor, defence: bool) -> list[dict[str, torch.Tensor]]:
    """Detections (score >= tau after post-processing) in eval mode, with or without the defence."""
    was_training = model.training
    model.eval()
    try:
        with model.defended(defence):
            return model(images)
    finally:
        model.train(was_training)


def evaluate(model: Detector, data: Any, config: ORConfig,
             options: Mapping[str, Any] | None = None) -> dict[str, float]:
    """AP@0.5 on clean images (detections down to score 0.001, as for the paper's mAP) and the vanishing rate of
    an adaptive patch attack on the first ``options.attack_images`` images (default 16), without and with the
    defence (``options.eps`` overrides the defence's epsilon). ``vr`` follows Eq. 8 (B(x) = the model's own clean
    detections); ``vr_objects`` counts only clean detections that match a true object (IoU >= 0.5).
    ``options.attack_steps`` shortens the attack; ``options.plain=False`` skips the undefended model."""
    options = options or {}
    items = [data[i] for i in range(len(data))]
    images = torch.stack([im for im, _ in items])
    targets = [t for _, t in items]
    n = int(options.get("attack_images") or 16)
    eps = options.get("eps")
    out: dict[str, float] = {}
    was_training = model.training
    model.eval()
    threshold = model.net.score_thresh
    try:
        for defence in ((False, True) if options.get("plain", True) else (True,)):
            tag = "or" if defence else "plain"
            with model.defended(defence, eps):
                model.net.score_thresh = 0.001
                out[f"ap50_{tag}"] = average_precision(detect(model, images, defence), targets)
                model.net.score_thresh = threshold
                boxes = [c["boxes"] for c in detect(model, images[:n], defence)]
                attacked = vanishing_attack(model, images[:n], boxes, config, options.get("attack_steps"))
                after = [a["boxes"] for a in detect(model, attacked, defence)]
            out[f"vr_{tag}"] = vanishing_rate(boxes, after, config.iou)
            on_objects = [b[_matches_truth(b, t["boxes"], config.iou)] for b, t in zip(boxes, targets[:n])]
            out[f"vr_objects_{tag}"] = vanishing_rate(on_objects, after, config.iou)
            out[f"clean_boxes_{tag}"] = float(sum(b.shape[0] for b in boxes))
    finally:
        model.net.score_thresh = threshold
        model.train(was_training)
    return out


def _matches_truth(boxes: torch.Tensor, truth: torch.Tensor, iou: float) -> torch.Tensor:
    """Which detections overlap a true object with IoU >= ``iou``."""
    from zoo_plugins.objectness_reg.metrics import box_iou

    if boxes.numel() == 0 or truth.numel() == 0:
        return torch.zeros(boxes.shape[0], dtype=torch.bool)
    return box_iou(boxes, truth).max(dim=1).values >= iou
