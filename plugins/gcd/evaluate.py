"""GCD evaluation with the paper's metrics (spec §1.7, §2.4): generate a dance for every test sequence's music and
dancer count, then compare with the ground truth: FID_k, GenDiv, MMC, PFC (single-dancer) and GMR, GMC, TIF
(group). Generated and ground-truth motions go through the same FK."""
from __future__ import annotations

from collections.abc import Mapping

from typing import Any

import numpy as np
import torch

from zoo.dance import representation
from zoo.dance.evaluation import group_dance_metrics

from .infer import sample
from .model import GCD, data_mask_from


def _groups(joints: torch.Tensor, mask: torch.Tensor) -> list[np.ndarray]:
    """Valid dancers and frames of each group as ``[n, T_valid, 24, 3]`` arrays."""
    out = []
    for j, m in zip(joints.cpu().numpy(), mask.cpu().numpy()):
        dancers = np.flatnonzero(m.any(axis=1))
        frames = int(m[dancers[0]].sum()) if dancers.size else 0
        out.append(j[dancers, :frames])
    return out


def evaluate(model: GCD, data: Any, *, gamma: float = 0.0, steps: int | None = None, batch_size: int = 16,
             seed: int = 0, limit: int | None = None) -> dict[str, float]:
    """Metrics of ``model`` on a dance dataset (items as in :mod:`zoo.data.synthetic.dance`)."""
    from torch.utils.data import default_collate

    cfg = model.cfg
    count = len(data) if limit is None else min(limit, len(data))
    gen_groups: list[np.ndarray] = []
    gt_groups: list[np.ndarray] = []
    beats: list[np.ndarray] = []
    for start in range(0, count, batch_size):
        batch = default_collate([data[i] for i in range(start, min(count, start + batch_size))])
        n, fmask = batch["n_dancers"].long(), batch["frame_mask"].bool()
        out = sample(model, batch["music"].float(), n, fmask, gamma=gamma, steps=steps, seed=seed + start)
        mask = data_mask_from(n, fmask, cfg.max_dancers)
        with torch.no_grad():
            gen_groups += _groups(representation.to_joints(out["motion"]), mask)
            gt_groups += _groups(representation.to_joints(batch["motion"].float()), mask)
        for b, f in zip(batch["beats"].numpy(), fmask.numpy()):
            beats.append(b[: int(f.sum())])
    return group_dance_metrics(gen_groups, gt_groups, beats, fps=cfg.fps, chunk=cfg.frames)


def evaluate_hook(model: GCD, data: Any, options: Mapping[str, Any]) -> dict[str, float]:
    """The ``evaluate`` hook: :func:`evaluate` with the typed ``gamma``, ``steps``, ``limit`` and ``seed`` options."""
    seed = options.get("seed")
    return evaluate(model, data, gamma=float(options.get("gamma") or 0.0), steps=options.get("steps"),
                    limit=options.get("limit"), seed=0 if seed is None else int(seed))
