"""Training of the metric (or softmax) model on the shared trainer, Eq. 7's prototypes afterwards, and the
weakly supervised localisation evaluation (top-1 localisation error, as Table 1)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch.nn import functional as F

from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.options import Options, TrainOptions
from zoo_plugins.dist_cam.cam import box_iou, cam, class_prototypes, dist_cam, heatmap_box, upsample
from zoo_plugins.dist_cam.config import DistCAMConfig
from zoo_plugins.dist_cam.model import MetricNet


def train(model: MetricNet, data: Any, config: DistCAMConfig, options: TrainOptions,
          callbacks: Sequence[Any] = ()) -> TrainResult:
    """Cross-entropy on the model's logits (negative squared distances to the class centres, or the FC's);
    then, for the metric model, the prototypes become the class means of the training embeddings (Eq. 7)."""

    def loss_fn(net: MetricNet, batch: Any) -> torch.Tensor:
        x, y = batch
        return F.cross_entropy(net(x), y)

    recipe = Recipe(steps=config.steps, batch_size=config.batch_size, lr=config.lr, optimizer="adam")
    result = fit(model, data, loss_fn, recipe, options, callbacks=callbacks)
    if model.head == "prototype":
        set_prototypes(model, data.images, data.labels)
    return result


@torch.no_grad()
def set_prototypes(model: MetricNet, images: torch.Tensor, labels: torch.Tensor) -> None:
    """Eq. 7: prototypes = class means of the embeddings of ``images`` (eval mode)."""
    was_training = model.training
    model.eval()
    z = torch.cat([model.embed(chunk) for chunk in images.split(256)])
    model.prototypes.copy_(class_prototypes(z, labels, model.prototypes.shape[0]))
    model.train(was_training)


@torch.no_grad()
def activation_maps(model: MetricNet, images: torch.Tensor, classes: torch.Tensor, norm: str = "sum") -> torch.Tensor:
    """The class activation maps of ``images`` for ``classes`` at image size, in [0, 1]: Dist-CAM against the
    prototypes for the metric model, CAM with the FC weights for the softmax model."""
    q = model.features(images)
    raw = dist_cam(q, model.prototypes[classes], norm) if model.head == "prototype" else cam(q, model.fc.weight, classes)
    return upsample(raw, tuple(images.shape[-2:]))


@torch.no_grad()
def evaluate(model: MetricNet, data: Any, config: DistCAMConfig, options: Options) -> dict[str, float]:
    """``accuracy``; ``loc_error`` (top-1 localisation error: wrong class or box IoU < ``config.iou``, the
    paper's metric); ``gt_loc_error`` (the box alone, for the true class's map); ``pointing`` (the pointing game:
    fraction of true-class maps whose maximum lies inside the ground-truth box)."""
    was_training = model.training
    model.eval()
    try:
        preds, hits, gt_hits, points = [], 0, 0, 0
        for start in range(0, len(data.images), 256):
            x = data.images[start:start + 256]
            y = data.labels[start:start + 256]
            pred = model(x).argmax(1)
            maps_pred = activation_maps(model, x, pred)
            maps_true = activation_maps(model, x, y)
            for i in range(len(x)):
                gt = tuple(data.boxes[start + i].tolist())
                ok_pred = box_iou(heatmap_box(maps_pred[i], options.threshold), gt) >= config.iou
                hits += int(ok_pred and bool(pred[i] == y[i]))
                gt_hits += int(box_iou(heatmap_box(maps_true[i], options.threshold), gt) >= config.iou)
                peak_y, peak_x = divmod(int(maps_true[i].argmax()), maps_true.shape[-1])
                points += int(gt[0] <= peak_x < gt[2] and gt[1] <= peak_y < gt[3])
            preds.append(pred)
    finally:
        model.train(was_training)
    n = len(data.labels)
    accuracy = float((torch.cat(preds) == data.labels).float().mean())
    return {"accuracy": accuracy, "loc_error": 1 - hits / n, "gt_loc_error": 1 - gt_hits / n,
            "pointing": points / n}
