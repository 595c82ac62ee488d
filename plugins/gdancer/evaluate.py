"""GDanceR evaluation with the shared group metrics (:mod:`zoo.dance.evaluation`): for every test window, generate
the group from the window's music and the ground-truth dancers' first root positions (tau_0), then compare with
the ground truth: FID_k, GenDiv, MMC, PFC, GMR, GMC, TIF (the same columns as GCD, so `zoo eval gdancer-tiny
gcd-tiny` prints one comparable table). Also reports the teacher-forced pose error ``rec_l2``."""
from __future__ import annotations

from collections.abc import Mapping

from typing import Any

import numpy as np
import torch

from zoo.dance import representation
from zoo.dance.evaluation import group_dance_metrics, valid_groups

from .infer import sample
from .losses import batch_masks, gdancer_loss
from .model import GDanceR


def evaluate(model: GDanceR, data: Any, *, batch_size: int = 16, limit: int | None = None) -> dict[str, float]:
    """Metrics of ``model`` on a dance dataset (items as in :mod:`zoo.data.synthetic.dance`)."""
    from torch.utils.data import default_collate

    cfg = model.cfg
    count = len(data) if limit is None else min(limit, len(data))
    gen_groups: list[np.ndarray] = []
    gt_groups: list[np.ndarray] = []
    beats: list[np.ndarray] = []
    rec: list[float] = []
    was_training = model.training
    model.eval()
    try:
        for start in range(0, count, batch_size):
            batch = default_collate([data[i] for i in range(start, min(count, start + batch_size))])
            motion = batch["motion"].float()
            dancer_valid, frame_valid, mask = batch_masks(batch)
            with torch.no_grad():
                rec.append(float(gdancer_loss(model, batch)[1]["rec"]) * motion.shape[0])
                out = sample(model, batch["music"].float(), motion[:, :, 0, :3], dancer_valid, frame_valid)
                gen_groups += valid_groups(representation.to_joints(out["motion"]), mask)
                gt_groups += valid_groups(representation.to_joints(motion), mask)
            for b, f in zip(batch["beats"].numpy(), frame_valid.numpy()):
                beats.append(b[: int(f.sum())])
    finally:
        model.train(was_training)
    result = group_dance_metrics(gen_groups, gt_groups, beats, fps=cfg.fps, chunk=cfg.frames)
    result["rec_l2"] = sum(rec) / max(count, 1)
    return result


def evaluate_hook(model: GDanceR, data: Any, options: Mapping[str, Any]) -> dict[str, float]:
    """The ``evaluate`` hook: :func:`evaluate` with the typed ``limit`` option."""
    return evaluate(model, data, limit=options.get("limit"))
