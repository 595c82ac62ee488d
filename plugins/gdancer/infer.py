"""GDanceR inference (spec §2.1): from music features and the dancers' initial positions, generate every dancer's
motion autoregressively, for as many frames as the music has and for any number of dancers.

Inputs: ``music [B, T, F]``, ``positions [B, N, 3]`` (tau_0, metres, y up), optional ``dancer_mask [B, N]`` (groups of
different sizes in one batch), ``frame_mask [B, T]`` and ``beats [B, T]`` (passed through for drawing).
Outputs: ``pose [B, N, T, P]`` (the model's y = [tau; theta]), ``motion [B, N, T, 151]`` (shared representation),
``mask [B, N, T]``, ``smpl_poses [B, N, T, 72]``, ``root_trans [B, N, T, 3]``, ``joints [B, N, T, 24, 3]``; zero
where masked. Generation is deterministic (no sampling), so a fixed input always gives the same dance.
"""
from __future__ import annotations

from collections.abc import Mapping

from typing import Any

import torch

from zoo.dance import representation
from zoo.errors import InputError

from .model import GDanceR
from .pose import pose_to_motion


def check_inputs(model: GDanceR, music: torch.Tensor, positions: torch.Tensor, dancer_mask: torch.Tensor | None,
                 frame_mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate the shapes the core cannot know (feature size, dancers) and return ``(dancer_valid, frame_valid)``."""
    cfg = model.cfg
    if music.dim() != 3 or music.shape[-1] != cfg.music_dim:
        raise InputError(f"gdancer: music must be [B, T, {cfg.music_dim}] ({cfg.music_features} features at "
                         f"{cfg.fps} FPS), got {tuple(music.shape)}")
    b, t = music.shape[:2]
    if positions.dim() != 3 or positions.shape[0] != b or positions.shape[-1] != 3 or positions.shape[1] < 1:
        raise InputError(f"gdancer: positions must be [{b}, N, 3] initial root positions, got {tuple(positions.shape)}")
    n = positions.shape[1]
    if dancer_mask is None:
        dancer_valid = torch.ones(b, n, dtype=torch.bool, device=music.device)
    else:
        dancer_valid = torch.as_tensor(dancer_mask, device=music.device).bool()
        if dancer_valid.shape != (b, n):
            raise InputError(f"gdancer: dancer_mask must be [{b}, {n}], got {tuple(dancer_valid.shape)}")
    if not bool(dancer_valid.any(dim=1).all()):
        raise InputError("gdancer: every group needs at least one dancer (a dancer_mask row is all false)")
    if frame_mask is None:
        frame_valid = torch.ones(b, t, dtype=torch.bool, device=music.device)
    else:
        frame_valid = torch.as_tensor(frame_mask, device=music.device).bool()
        if frame_valid.shape != (b, t):
            raise InputError(f"gdancer: frame_mask must be [{b}, {t}], got {tuple(frame_valid.shape)}")
    return dancer_valid, frame_valid


def sample(model: GDanceR, music: torch.Tensor, positions: torch.Tensor, dancer_mask: torch.Tensor | None = None,
           frame_mask: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Generate ``pose``, ``motion`` and ``mask`` (see the module docstring) for a batch of songs."""
    music, positions = music.float(), positions.float().to(music.device)
    dancer_valid, frame_valid = check_inputs(model, music, positions, dancer_mask, frame_mask)
    was_training = model.training
    model.eval()
    try:
        poses = model.generate(music, positions, dancer_valid, frame_valid)
    finally:
        model.train(was_training)
    mask = dancer_valid[:, :, None] & frame_valid[:, None, :]
    m = mask[..., None].to(poses.dtype)
    motion = pose_to_motion(poses, model.cfg.pose_repr) * m
    return {"pose": poses * m, "motion": motion, "mask": mask}


def decode_outputs(result: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Add SMPL arrays and FK joints (zero where masked) to a :func:`sample` result."""
    motion, mask = result["motion"], result["mask"]
    poses, root = representation.to_smpl(motion)
    joints = representation.to_joints(motion)
    m = mask.to(motion.dtype)
    return dict(result, smpl_poses=poses * m[..., None], root_trans=root * m[..., None],
                joints=joints * m[..., None, None])


def generate(model: GDanceR, inputs: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """The ``infer`` hook: autoregressive generation (GDanceR has no sampling options)."""
    music = torch.as_tensor(inputs["music"]).float()
    positions = torch.as_tensor(inputs["positions"]).float()
    out = decode_outputs(sample(model, music, positions, inputs.get("dancer_mask"), inputs.get("frame_mask")))
    beats = inputs.get("beats")
    if beats is not None:
        out["beats"] = torch.as_tensor(beats).float()
    return out
