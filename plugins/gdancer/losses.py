"""GDanceR's training loss. The blog gives none (spec §2.2 item 4); we train with teacher forcing on the
reconstruction energies the blog writes for its motion capture (Part 1), turned from a fitting objective into a
supervised one:

- ``L_rec``: masked L2 between predicted and ground-truth pose vectors y_t (t >= 1), FACT-style;
- ``L_init``: masked L2 between the Initial Pose Generator's y_0 and the ground-truth first pose;
- ``L_J``: masked L2 between FK joint positions of prediction and ground truth (the blog's data term E_J compares
  joints with 2D keypoints; here the ground truth is 3D);
- ``E_S = sum_t ||theta_{t+1} - theta_t||^2 + sum_j sum_t ||X_{j,t+1} - X_{j,t}||^2`` on the PREDICTED motion
  (averaged over valid frame pairs and dancers);
- ``E_F = sum_t sum_{j in feet} c_{j,t} ||X_{j,t+1} - X_{j,t}||^2`` on the predicted foot joints, with the contact
  labels c of the GROUND TRUTH (the 4 contact channels of the shared motion representation).

``L = w.rec L_rec + w.init L_init + w.joint L_J + w.smooth E_S + w.foot E_F`` with the config's ``LossWeights``.
"""
from __future__ import annotations

import torch

from zoo.dance import representation
from zoo.dance.skeleton import FOOT_JOINTS

from .model import GDanceR
from .pose import motion_to_pose, pose_joints


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``values [..., C]`` (or ``[...]``) over the positions where ``mask [...]`` is true."""
    m = mask.to(values.dtype)
    if values.dim() == mask.dim() + 1:
        return (values * m[..., None]).sum() / (m.sum() * values.shape[-1]).clamp_min(1.0)
    return (values * m).sum() / m.sum().clamp_min(1.0)


def batch_masks(batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(dancer_valid [B, N], frame_valid [B, T], mask [B, N, T])`` of a dance batch."""
    motion = batch["motion"]
    n_slots, frames = motion.shape[1], motion.shape[2]
    counts = batch["n_dancers"].long().to(motion.device)
    dancer_valid = torch.arange(n_slots, device=motion.device)[None] < counts[:, None]
    frame_valid = batch.get("frame_mask")
    frame_valid = (torch.ones(motion.shape[0], frames, dtype=torch.bool, device=motion.device)
                   if frame_valid is None else frame_valid.bool().to(motion.device))
    return dancer_valid, frame_valid, dancer_valid[:, :, None] & frame_valid[:, None, :]


def gdancer_loss(model: GDanceR, batch: dict[str, torch.Tensor], sample_prob: float = 0.0
                 ) -> tuple[torch.Tensor, dict[str, float]]:
    """Total loss of one batch (``motion [B, N, T, 151]``, ``music [B, T, F]``, ``n_dancers [B]``,
    ``frame_mask [B, T]``) and its terms for the trainer's history; ``sample_prob`` is the scheduled-sampling
    probability of feeding the model's own previous pose (0: pure teacher forcing)."""
    cfg = model.cfg
    motion = batch["motion"].float()
    dancer_valid, frame_valid, mask = batch_masks(batch)
    target = motion_to_pose(motion, cfg.pose_repr) * mask[..., None].to(motion.dtype)
    pred = model.teacher_forced(target, batch["music"].float(), dancer_valid, frame_valid, sample_prob=sample_prob)

    l_init = masked_mean((pred[:, :, 0] - target[:, :, 0]) ** 2, mask[:, :, 0])
    l_rec = masked_mean((pred[:, :, 1:] - target[:, :, 1:]) ** 2, mask[:, :, 1:])
    joints = pose_joints(pred, cfg.pose_repr)  # [B, N, T, 24, 3]
    target_joints = representation.to_joints(motion)
    l_joint = masked_mean(((joints - target_joints) ** 2).sum(-1), mask)
    pair = mask[:, :, 1:] & mask[:, :, :-1]
    d_theta = pred[:, :, 1:, 3:] - pred[:, :, :-1, 3:]
    d_joints = joints[:, :, 1:] - joints[:, :, :-1]
    e_smooth = masked_mean((d_theta ** 2).sum(-1) + (d_joints ** 2).sum((-1, -2)), pair)
    contacts = motion[:, :, :-1, representation.POSE_DIMS: representation.MOTION_DIMS]  # c_{j,t}
    foot_speed = (d_joints[..., list(FOOT_JOINTS), :] ** 2).sum(-1)  # [B, N, T-1, 4]
    e_foot = masked_mean((contacts * foot_speed).sum(-1), pair)

    w = cfg.weights
    total = (w.rec * l_rec + w.init * l_init + w.joint * l_joint + w.smooth * e_smooth + w.foot * e_foot)
    logs = {"rec": float(l_rec.detach()), "init": float(l_init.detach()), "joint": float(l_joint.detach()),
            "smooth": float(e_smooth.detach()), "foot": float(e_foot.detach())}
    return total, logs


def reconstruction_error(model: GDanceR, batch: dict[str, torch.Tensor]) -> float:
    """Teacher-forced pose L2 (``L_rec``) of one batch without gradients (for tests and evaluation)."""
    with torch.no_grad():
        _, logs = gdancer_loss(model, batch)
    return logs["rec"]
