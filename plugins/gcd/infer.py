"""GCD sampling (spec §1.6): DDIM over a respaced schedule, consistency/diversity guidance with gamma, any number
of dancers up to the maximum, and long sequences generated as overlapping chunks.

Guidance: with ``gamma != 0`` every step adds the gradient of ``log f(x_m, w)`` (the contrastive encoder's logit)
with respect to x_m, scaled by gamma, in score form (``eps - gamma * sqrt(1 - abar) * grad``, the public code's
DDIM path; ``guidance_form="score"``) or mean form (``mu + gamma * Sigma * grad``, the blog's equation). gamma > 0
pushes the group toward consistency, gamma < 0 toward diversity.

Long sequences (more frames than ``cfg.frames``): the music is cut into chunks of ``cfg.frames`` frames (5 s in the
paper) with ``cfg.overlap`` (50 %) overlap, all chunks are denoised together as one batch, and at EVERY denoising
step the dancers of each chunk are matched to the previous chunk's (Hungarian, on the x0 estimates over the
overlap) and the overlap of the x0 estimates is blended (slerp for rotations) and written into both chunks.
"""
from __future__ import annotations

from collections.abc import Mapping

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from zoo.dance import blend, representation
from zoo.errors import ConfigError, InputError

from .model import GCD, MusicContext, data_mask_from


@dataclass
class Chunking:
    """How a long sequence of ``total`` frames is cut: ``count`` chunks of ``length`` frames every ``hop``."""

    total: int
    length: int
    hop: int
    count: int

    @property
    def overlap(self) -> int:
        return self.length - self.hop

    @property
    def padded(self) -> int:
        return (self.count - 1) * self.hop + self.length


def plan_chunks(total: int, length: int, overlap: float) -> Chunking:
    """Chunks of ``length`` frames with ``overlap`` (fraction, at most 0.5) covering ``total`` frames."""
    if not 0.0 < overlap <= 0.5:
        raise ConfigError(f"chunk overlap must be in (0, 0.5], got {overlap}")
    hop = max(1, length - int(round(length * overlap)))
    count = 1 if total <= length else 1 + math.ceil((total - length) / hop)
    return Chunking(total, length, hop, count)


def _split(x: torch.Tensor, plan: Chunking, dim: int) -> torch.Tensor:
    """``[B, ..., padded, ...]`` (time at ``dim``) -> ``[B * count, ..., length, ...]`` (chunk-major within a row)."""
    chunks = [x.narrow(dim, k * plan.hop, plan.length) for k in range(plan.count)]
    stacked = torch.stack(chunks, dim=1)  # [B, K, ...]
    return stacked.reshape(-1, *stacked.shape[2:])


def _pad_time(x: torch.Tensor, frames: int, dim: int) -> torch.Tensor:
    """Zero-pad ``x`` along ``dim`` to ``frames``."""
    extra = frames - x.shape[dim]
    if extra <= 0:
        return x
    shape = list(x.shape)
    shape[dim] = extra
    return torch.cat([x, x.new_zeros(shape)], dim=dim)


class ChunkJoiner:
    """Per-step dancer matching and overlap blending of the chunks of each sequence."""

    def __init__(self, plan: Chunking, n_dancers: torch.Tensor) -> None:
        self.plan = plan
        self.n_dancers = n_dancers.tolist()

    def __call__(self, x0: torch.Tensor, xt: torch.Tensor | None = None) -> None:
        """Match and blend in place: ``x0``/``xt`` are ``[B * K, N, L, C]``."""
        plan = self.plan
        if plan.count < 2:
            return
        ov, hop = plan.overlap, plan.hop
        weights = blend.overlap_weights(ov, x0.device)
        b = len(self.n_dancers)
        x0v = x0.view(b, plan.count, *x0.shape[1:])
        xtv = xt.view(b, plan.count, *xt.shape[1:]) if xt is not None else None
        for i, n in enumerate(self.n_dancers):
            for k in range(1, plan.count):
                prev = x0v[i, k - 1, :n, hop:hop + ov]
                perm = blend.match_dancers(prev, x0v[i, k, :n, :ov])
                if perm != list(range(n)):
                    x0v[i, k, :n] = x0v[i, k, perm].clone()
                    if xtv is not None:
                        xtv[i, k, :n] = xtv[i, k, perm].clone()
                mixed = blend.blend_motion(x0v[i, k - 1, :n, hop:hop + ov], x0v[i, k, :n, :ov], weights)
                x0v[i, k - 1, :n, hop:hop + ov] = mixed
                x0v[i, k, :n, :ov] = mixed

    def stitch(self, chunks: torch.Tensor) -> torch.Tensor:
        """``[B * K, N, L, C]`` -> ``[B, N, total, C]``: chunk 0 whole, then each chunk after its overlap."""
        plan = self.plan
        b = len(self.n_dancers)
        v = chunks.view(b, plan.count, *chunks.shape[1:])
        parts = [v[:, 0]] + [v[:, k, :, plan.overlap:] for k in range(1, plan.count)]
        return torch.cat(parts, dim=2)[:, :, : plan.total]


def _guidance_grad(model: GCD, x: torch.Tensor, w: torch.Tensor, t: torch.Tensor, mask: torch.Tensor,
                   gamma: float) -> torch.Tensor:
    """``gamma * grad_x log f(x, w)`` at the padded-masked sample ``x``."""
    with torch.enable_grad():
        xg = x.detach().requires_grad_(True)
        logit = model.encoder(xg, w, t, mask)
        (grad,) = torch.autograd.grad(logit.sum(), xg)
    return gamma * grad * mask[..., None].to(grad.dtype)


def sample(model: GCD, music: torch.Tensor, n_dancers: torch.Tensor | int, frame_mask: torch.Tensor | None = None,
           *, gamma: float = 0.0, steps: int | None = None, eta: float = 0.0, cfg_scale: float | None = None,
           guidance_form: str | None = None, seed: int | None = None,
           on_step: Callable[[int, torch.Tensor], None] | None = None) -> dict[str, torch.Tensor]:
    """Generate group dances for ``music [B, T, F]``.

    Args:
        n_dancers: dancers per sequence (``[B]`` or one int), each in ``1..cfg.max_dancers``.
        frame_mask: valid music frames ``[B, T]`` (default: all).
        gamma: consistency (> 0) / diversity (< 0) control in [-1, 1] (larger magnitudes are allowed).
        steps: DDIM steps (default ``cfg.ddim_steps``); ``eta`` the DDIM stochasticity.
        cfg_scale: classifier-free guidance scale (default ``cfg.cfg_scale``; 1 = off).
        seed: seeds the initial noise and z (default: drawn from torch's global RNG).

    Returns:
        ``motion [B, N_max, T, 151]`` (zeros for absent dancers/frames) and ``mask [B, N_max, T]``.
    """
    cfg = model.cfg
    if music.dim() != 3 or music.shape[-1] != cfg.music_dim:
        raise InputError(f"gcd: music must be [B, T, {cfg.music_dim}], got {tuple(music.shape)}")
    b, total = music.shape[:2]
    device = music.device
    if isinstance(n_dancers, int):
        n_dancers = torch.full((b,), n_dancers, dtype=torch.long)
    n_dancers = n_dancers.to(device).long()
    if n_dancers.shape != (b,) or int(n_dancers.min()) < 1 or int(n_dancers.max()) > cfg.max_dancers:
        raise InputError(f"gcd: n_dancers must be {b} values in 1..{cfg.max_dancers}, got {n_dancers.tolist()}")
    frame_mask = torch.ones(b, total, dtype=torch.bool, device=device) if frame_mask is None else frame_mask.bool()
    if frame_mask.shape != (b, total):
        raise InputError(f"gcd: frame_mask must be [{b}, {total}], got {tuple(frame_mask.shape)}")
    form = guidance_form or cfg.guidance_form
    scale = cfg.cfg_scale if cfg_scale is None else cfg_scale
    diffusion = model.diffusion(f"ddim{steps or cfg.ddim_steps}")
    if seed is None:  # follow torch's global RNG, so torch.manual_seed makes sampling reproducible
        seed = int(torch.randint(0, 2**62, (1,)).item())
    gen = torch.Generator(device="cpu").manual_seed(seed)

    plan = plan_chunks(total, cfg.frames, cfg.overlap)
    joiner = ChunkJoiner(plan, n_dancers.cpu())
    music_c = _split(_pad_time(music, plan.padded, 1), plan, 1)
    fmask_c = _split(_pad_time(frame_mask, plan.padded, 1), plan, 1)
    n_c = n_dancers.repeat_interleave(plan.count)
    mask = data_mask_from(n_c, fmask_c, cfg.max_dancers)
    mask_f = mask[..., None].to(music.dtype)
    model.eval()
    with torch.no_grad():
        ctx = model.denoiser.encode_music(music_c, fmask_c)
        z = torch.randn(b, cfg.d_model, generator=gen).to(device).repeat_interleave(plan.count, 0)
        w = model.denoiser.group_embedding(ctx, n_c, z)
        null_ctx = None
        if scale != 1.0:
            drop = torch.ones(music_c.shape[0], dtype=torch.bool, device=device)
            null_ctx = model.denoiser.encode_music(music_c, fmask_c, drop)
        shape = (music_c.shape[0], cfg.max_dancers, plan.length, cfg.motion_dim)
        x = torch.randn(shape, generator=gen).to(device) * mask_f
        x0 = x
        for i in reversed(range(diffusion.num_timesteps)):
            t = torch.full((shape[0],), i, dtype=torch.long, device=device)
            tm = diffusion.model_t(t)
            x0 = _predict(model, x, tm, ctx, null_ctx, w, mask, scale)
            joiner(x0, x)
            grad = _guidance_grad(model, x, w, tm, mask, gamma) if gamma != 0 else None
            noise = torch.randn(shape, generator=gen).to(device)
            out = diffusion.ddim_step_from_x0(x, t, x0, eta=eta, grad=grad, guidance=form, noise=noise)
            x = out.sample * mask_f
            if on_step is not None:
                on_step(i, x)
        joiner(x)  # the last step returns x0; make the overlaps agree exactly before stitching
        motion = joiner.stitch(x)
    out_mask = data_mask_from(n_dancers, frame_mask, cfg.max_dancers)
    return {"motion": motion * out_mask[..., None].to(motion.dtype), "mask": out_mask}


def _predict(model: GCD, x: torch.Tensor, t: torch.Tensor, ctx: MusicContext, null_ctx: MusicContext | None,
             w: torch.Tensor, mask: torch.Tensor, scale: float) -> torch.Tensor:
    """x0 estimate, with classifier-free guidance when ``null_ctx`` is given."""
    from zoo.engines.diffusion import classifier_free_guidance

    cond = model.denoiser(x, t, ctx, w, mask)
    if null_ctx is None:
        return cond
    uncond = model.denoiser(x, t, null_ctx, w, mask)
    return classifier_free_guidance(cond, uncond, scale)


def decode_outputs(result: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Add SMPL arrays and joints: ``smpl_poses [B, N, T, 72]``, ``root_trans [B, N, T, 3]``,
    ``joints [B, N, T, 24, 3]`` (all zero where masked)."""
    motion, mask = result["motion"], result["mask"]
    poses, root = representation.to_smpl(motion)
    joints = representation.to_joints(motion)
    m = mask.to(motion.dtype)
    return dict(result, smpl_poses=poses * m[..., None], root_trans=root * m[..., None],
                joints=joints * m[..., None, None])


def generate(model: GCD, inputs: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """The ``infer`` hook: inputs ``music`` (+ optional ``n_dancers``, ``frame_mask``, ``beats``); options ``gamma``,
    ``steps``, ``eta``, ``cfg_scale``, ``seed``, ``dancers`` (one count for the whole batch)."""
    music = inputs["music"].float()
    b = music.shape[0]
    n = inputs.get("n_dancers")
    if n is None:
        n = torch.full((b,), int(options.get("dancers") or model.cfg.max_dancers), dtype=torch.long)
    gamma = float(options.get("gamma", 0.0))
    if not math.isfinite(gamma):
        raise InputError(f"gcd: gamma must be a finite number, got {gamma}")
    result = sample(model, music, n, inputs.get("frame_mask"), gamma=gamma, steps=options.get("steps"),
                    eta=float(options.get("eta", 0.0)), cfg_scale=options.get("cfg_scale"),
                    seed=options.get("seed"))
    out = decode_outputs(result)
    if inputs.get("beats") is not None:
        out["beats"] = torch.as_tensor(inputs["beats"]).float()
    return out
