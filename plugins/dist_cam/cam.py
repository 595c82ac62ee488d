"""The method (Eqs. 2-7) and the localisation protocol, as functions of feature maps: nothing here knows the model.

- :func:`dist_cam`: ``D^c = |GAP(S^c) - GAP(Q)|`` (Eq. 4), ``W^c = norm(1 / D^c)`` (Eq. 5),
  ``M^c = sum_k W^c_k Q_k`` (Eq. 6);
- :func:`class_prototypes`: ``P^c = mean of the training features of class c`` (Eq. 7);
- :func:`cam`: the softmax baseline ``M^c = sum_k w^c_k Q_k`` with the FC weights (Eq. 3);
- :func:`heatmap_box`, :func:`box_iou`: CAM's weakly supervised localisation (threshold at a fraction of the
  maximum, box around the largest connected component, IoU with the ground truth).
"""
from __future__ import annotations

import torch
from torch.nn import functional as F

from zoo.errors import ConfigError, InputError

NORMS: tuple[str, ...] = ("sum", "max", "minmax")


def channel_weights(query: torch.Tensor, reference: torch.Tensor, norm: str = "sum",
                    eps: float = 1e-6) -> torch.Tensor:
    """Eqs. 4-5: ``W = norm(1 / |reference - GAP(query)|)`` per channel.

    ``query [B, K, H, W]`` feature maps; ``reference [K]`` or ``[B, K]`` (a GAP'ed training sample S^c or a
    prototype P^c). ``norm``: ``sum`` (weights sum to one), ``max`` (largest weight one) or ``minmax`` (scaled
    to [0, 1]); the paper says "element-wise normalisation" without naming one. ``eps`` guards a zero distance.
    Returns ``[B, K]``.
    """
    if query.dim() != 4:
        raise InputError(f"Dist-CAM needs feature maps [B, K, H, W], got {tuple(query.shape)}")
    if reference.shape[-1] != query.shape[1]:
        raise InputError(f"Dist-CAM: reference has {reference.shape[-1]} channels, the feature map {query.shape[1]}")
    inverse = 1.0 / ((reference - query.mean((2, 3))).abs() + eps)
    if norm == "sum":
        return inverse / inverse.sum(-1, keepdim=True)
    if norm == "max":
        return inverse / inverse.amax(-1, keepdim=True)
    if norm == "minmax":
        low, high = inverse.amin(-1, keepdim=True), inverse.amax(-1, keepdim=True)
        return (inverse - low) / (high - low).clamp_min(eps)
    raise ConfigError(f"unknown Dist-CAM norm {norm!r}; expected one of {', '.join(NORMS)}")


def dist_cam(query: torch.Tensor, reference: torch.Tensor, norm: str = "sum", eps: float = 1e-6) -> torch.Tensor:
    """Eq. 6: ``M = sum_k W_k Q_k``, the Dist-CAM of ``query [B, K, H, W]`` for ``reference`` (``[K]`` or
    ``[B, K]``): ``[B, H, W]``."""
    weights = channel_weights(query, reference, norm, eps)
    return torch.einsum("bk,bkhw->bhw", weights, query)


def class_prototypes(features: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Eq. 7: the mean of the (GAP'ed) features ``[N, K]`` of each class: ``[num_classes, K]`` (zeros for a class
    without samples)."""
    onehot = F.one_hot(labels, num_classes).to(features.dtype)
    return onehot.T @ features / onehot.sum(0).clamp_min(1).unsqueeze(1)


def cam(query: torch.Tensor, fc_weight: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    """Eq. 3, the softmax baseline: ``M^c = sum_k w^c_k Q_k`` for ``classes [B]`` with FC weights ``[C, K]``."""
    return torch.einsum("bk,bkhw->bhw", fc_weight[classes], query)


def upsample(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``[B, h, w]`` maps to ``[B, H, W]`` (bilinear), then min-max normalised per map to [0, 1]."""
    up = F.interpolate(maps[:, None], size=size, mode="bilinear", align_corners=False)[:, 0]
    low = up.flatten(1).amin(1)[:, None, None]
    high = up.flatten(1).amax(1)[:, None, None]
    return (up - low) / (high - low).clamp_min(1e-12)


def heatmap_box(heatmap: torch.Tensor, threshold: float = 0.2) -> tuple[int, int, int, int]:
    """CAM's box: pixels above ``threshold`` x the maximum, the largest 4-connected component, its bounding box
    ``(x0, y0, x1, y1)`` with exclusive ``x1, y1`` (pixel units)."""
    from scipy import ndimage

    h = heatmap.detach().cpu().double()
    mask = (h >= threshold * float(h.max())).numpy() if float(h.max()) > 0 else (h == h.max()).numpy()
    labels, count = ndimage.label(mask)
    if count == 0:
        return (0, 0, h.shape[1], h.shape[0])
    sizes = ndimage.sum(mask, labels, index=range(1, count + 1))
    ys, xs = (labels == int(sizes.argmax()) + 1).nonzero()
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def box_iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two ``(x0, y0, x1, y1)`` boxes (exclusive ends)."""
    iw = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
