"""Detection metrics: AP at IoU 0.5 (one class) and the vanishing rate of Eq. 8."""
from __future__ import annotations

import torch


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pairwise IoU of ``a [N, 4]`` and ``b [M, 4]`` boxes ``(x1, y1, x2, y2)`` (torchvision's definition)."""
    from zoo.compat import import_torchvision

    import_torchvision()
    from torchvision.ops import box_iou as tv_box_iou

    return tv_box_iou(a, b)


def matched(reference: torch.Tensor, predicted: torch.Tensor, iou: float = 0.5) -> int:
    """How many ``reference`` boxes have a distinct ``predicted`` box with IoU >= ``iou`` (greedy by IoU)."""
    if reference.numel() == 0 or predicted.numel() == 0:
        return 0
    overlaps = box_iou(reference, predicted)
    count = 0
    while True:
        best = overlaps.max()
        if float(best) < iou:
            return count
        i, j = divmod(int(overlaps.argmax()), overlaps.shape[1])
        count += 1
        overlaps[i, :] = -1
        overlaps[:, j] = -1


def vanishing_rate(clean: list[torch.Tensor], attacked: list[torch.Tensor], iou: float = 0.5) -> float:
    """``VR = 1 - sum |IoU(B(x), B(x'))| / sum |B(x)|`` over images (Eq. 8): the fraction of the clean detections
    that no longer have a matching detection after the attack."""
    total = sum(int(c.shape[0]) for c in clean)
    if total == 0:
        return 0.0
    kept = sum(matched(c, a, iou) for c, a in zip(clean, attacked))
    return 1.0 - kept / total


def average_precision(predictions: list[dict[str, torch.Tensor]], targets: list[dict[str, torch.Tensor]],
                      iou: float = 0.5) -> float:
    """AP at ``iou`` of one class (all-point interpolated precision-recall area, VOC 2010+ style)."""
    records: list[tuple[float, bool]] = []
    positives = sum(int(t["boxes"].shape[0]) for t in targets)
    for pred, target in zip(predictions, targets):
        order = pred["scores"].argsort(descending=True)
        boxes, scores = pred["boxes"][order], pred["scores"][order]
        used = torch.zeros(target["boxes"].shape[0], dtype=torch.bool)
        overlaps = box_iou(boxes, target["boxes"]) if boxes.numel() and target["boxes"].numel() else None
        for k in range(boxes.shape[0]):
            hit = False
            if overlaps is not None:
                row = overlaps[k].clone()
                row[used] = -1
                j = int(row.argmax())
                if float(row[j]) >= iou:
                    used[j] = True
                    hit = True
            records.append((float(scores[k]), hit))
    if positives == 0:
        return 0.0
    records.sort(key=lambda r: -r[0])
    hits = torch.tensor([h for _, h in records], dtype=torch.float64)
    tp = hits.cumsum(0)
    precision = tp / torch.arange(1, len(records) + 1, dtype=torch.float64)
    recall = tp / positives
    envelope = torch.flip(torch.cummax(torch.flip(precision, [0]), 0).values, [0])
    previous = torch.cat([torch.zeros(1, dtype=torch.float64), recall[:-1]])
    return float(((recall - previous) * envelope).sum())
