"""GCD's training objective (spec §1.4): ``L = L_simple + L_geo + lambda_nce * L_nce``.

- ``L_simple``: masked MSE between x0 and the denoiser's x0-hat over all 151 channels.
- ``L_geo = l_pos * L_pos + l_vel * L_vel + l_foot * L_foot`` on joints from FK of x0-hat and x0
  (``ops.geometric_losses``); the foot term uses the model's OWN predicted contacts (> 0.95), as the code does.
  ``velocity_space="features"`` swaps L_vel for the public code's feature-space velocity (147-d deltas).
- ``L_nce``: InfoNCE (``ops.info_nce``, f = exp(logit)) of the positive against K negatives.
  * ``negatives="redenoise"`` (blog): the positive is ``x_{m-1} ~ p_theta(. | x_m, w)``; each negative replaces
    dancers of x0 by dancers of OTHER groups with probability p, is noised to ``x^j_m`` and denoised by the same
    network with the current music, then ``x^j_{m-1}`` is sampled; f scores both at step m-1.
  * ``negatives="swap_pred"`` (public code default): the positive is x0-hat, half the negatives swap dancers
    inside the predicted x0-hat batch (with probability p) and half take a whole other group's x0-hat; f scores
    them at step m.
"""
from __future__ import annotations

import warnings
from typing import Any

import torch

from zoo.dance import representation
from zoo.dance.skeleton import FOOT_JOINTS
from zoo.errors import ConfigError

from .model import GCD, data_mask_from


class ContrastiveSkipped(UserWarning):
    """L_nce could not be computed for a batch (it needs negatives from at least two groups)."""


NCE_SKIPPED = ("gcd: this batch has a single group, so L_nce (whose negatives take dancers from OTHER groups) is "
               "skipped for it; train with batch_size >= 2 per device")


def masked_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over valid elements; ``mask [B, N, T]`` broadcasts over the channel dimension."""
    m = mask[..., None].to(pred.dtype)
    return ((pred - target) ** 2 * m).sum() / (m.sum() * pred.shape[-1]).clamp_min(1.0)


def feature_velocity_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The public code's L_vel: masked MSE between frame differences of the 147 pose channels."""
    pair = mask[:, :, 1:] & mask[:, :, :-1]
    dp = pred[:, :, 1:, : representation.POSE_DIMS] - pred[:, :, :-1, : representation.POSE_DIMS]
    dt = target[:, :, 1:, : representation.POSE_DIMS] - target[:, :, :-1, : representation.POSE_DIMS]
    return masked_mse(dp, dt, pair)


def geometric_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, cfg: Any
                   ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``L_geo`` and its terms for x0-hat ``pred`` and x0 ``target`` ``[B, N, T, 151]``."""
    from zoo.kernels import ops

    pred_joints = representation.to_joints(pred)
    target_joints = representation.to_joints(target)
    contacts = pred[..., representation.POSE_DIMS: representation.MOTION_DIMS]
    terms = ops.geometric_losses(pred_joints, target_joints, mask, FOOT_JOINTS, contacts.detach(),
                                 contact_threshold=0.95)
    if cfg.velocity_space == "features":
        terms = dict(terms, velocity=feature_velocity_loss(pred, target, mask))
    elif cfg.velocity_space != "joints":
        raise ConfigError(f"velocity_space must be 'joints' or 'features', got {cfg.velocity_space!r}")
    w = cfg.weights
    total = w.pos * terms["joint"] + w.vel * terms["velocity"] + w.foot * terms["foot"]
    return total, terms


def replace_dancers(x0: torch.Tensor, n_dancers: torch.Tensor, prob: float,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """A negative group per sample: each valid dancer of group b is replaced, with probability ``prob``, by a random
    valid dancer of another group b' != b (at least one dancer is always replaced, so the negative differs).

    ``x0 [B, N, T, C]`` with ``n_dancers [B]``; frames stay where they are (the caller re-applies the frame mask).
    """
    b, n = x0.shape[:2]
    if b < 2:
        raise ConfigError("building contrastive negatives needs at least 2 groups in a batch")
    dev = x0.device
    counts = n_dancers.to(dev).long().clamp(1, n)  # pragma: no mutate (a guard: counts are 1..n already)
    slots = torch.arange(n, device=dev)[None].expand(b, n)
    valid = slots < counts[:, None]
    replace = (torch.rand(b, n, generator=generator, device=dev) < prob) & valid
    forced = (torch.rand(b, generator=generator, device=dev) * counts).long()
    none = ~replace.any(dim=1)
    replace[none, forced[none]] = True
    # donor group: a uniformly random other group; donor dancer: a random valid dancer of it
    shift = 1 + (torch.rand(b, n, generator=generator, device=dev) * (b - 1)).long()
    donor_group = (torch.arange(b, device=dev)[:, None] + shift) % b
    donor_dancer = (torch.rand(b, n, generator=generator, device=dev) * counts[donor_group]).long()
    donors = x0[donor_group, donor_dancer]
    return torch.where(replace[..., None, None], donors, x0)


def _posterior_sample(diffusion: Any, x0: torch.Tensor, xt: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``x_{m-1} ~ q(x_{m-1} | x_m, x0-hat)`` (the reverse step with fixed-small variance; no noise at m = 0)."""
    mean, _, logvar = diffusion.q_posterior(x0, xt, t)
    nonzero = (t != 0).to(xt.dtype).reshape(-1, *([1] * (xt.dim() - 1)))
    return mean + nonzero * torch.exp(0.5 * logvar) * torch.randn_like(xt)


def gcd_loss(model: GCD, batch: dict[str, torch.Tensor], diffusion: Any | None = None
             ) -> tuple[torch.Tensor, dict[str, float]]:
    """The total training loss of one batch and its parts (for the trainer's history).

    ``batch``: ``motion [B, N, T, 151]``, ``music [B, T, F]``, ``n_dancers [B]``, ``frame_mask [B, T]``.
    """
    from zoo.kernels import ops

    cfg = model.cfg
    diffusion = diffusion or model.diffusion()
    x0 = batch["motion"]
    music, n_dancers, frame_mask = batch["music"], batch["n_dancers"].long(), batch["frame_mask"].bool()
    b = x0.shape[0]
    mask = data_mask_from(n_dancers, frame_mask, x0.shape[1])
    x0 = x0 * mask[..., None].to(x0.dtype)
    t = diffusion.sample_timesteps(b, device=x0.device)
    x_t = diffusion.q_sample(x0, t) * mask[..., None].to(x0.dtype)
    drop = torch.rand(b, device=x0.device) < cfg.cfg_drop_prob if cfg.cfg_drop_prob > 0 else None
    ctx = model.denoiser.encode_music(music, frame_mask, drop)
    z = torch.randn(b, cfg.d_model, device=x0.device)
    w = model.denoiser.group_embedding(ctx, n_dancers, z)
    x0_hat = model.denoiser(x_t, t, ctx, w, mask)

    l_simple = masked_mse(x0_hat, x0, mask)
    l_geo, geo_terms = geometric_loss(x0_hat, x0, mask, cfg)
    logs: dict[str, float] = {"simple": float(l_simple.detach()), "geo": float(l_geo.detach()),
                              **{f"geo_{k}": float(v.detach()) for k, v in geo_terms.items()}}
    total = cfg.weights.simple * l_simple + l_geo
    if cfg.weights.nce > 0 and cfg.num_negatives > 0:
        if b < 2:
            warnings.warn(NCE_SKIPPED, ContrastiveSkipped, stacklevel=2)
            logs["nce_skipped"] = 1.0
            return total, logs
        logits = contrastive_logits(model, diffusion, x0, x_t, x0_hat, t, ctx, w, mask, n_dancers)
        l_nce = ops.info_nce(logits, cfg.temperature)
        total = total + cfg.weights.nce * l_nce
        logs["nce"] = float(l_nce.detach())
        logs["nce_acc"] = float((logits.argmax(dim=1) == 0).float().mean())
    return total, logs


def _repeat(x: torch.Tensor, k: int) -> torch.Tensor:
    """``[B, ...] -> [k*B, ...]`` (k copies of the batch, copy-major)."""
    return x.repeat(k, *([1] * (x.dim() - 1)))


def contrastive_logits(model: GCD, diffusion: Any, x0: torch.Tensor, x_t: torch.Tensor, x0_hat: torch.Tensor,
                       t: torch.Tensor, ctx: Any, w: torch.Tensor, mask: torch.Tensor, n_dancers: torch.Tensor
                       ) -> torch.Tensor:
    """Logits ``[B, 1 + K]`` of f for the positive (column 0) and the K negatives."""
    from .model import MusicContext

    cfg = model.cfg
    k = cfg.num_negatives
    b = x0.shape[0]
    mask_f = mask[..., None].to(x0.dtype)
    if cfg.negatives == "redenoise":
        negs0 = torch.cat([replace_dancers(x0, n_dancers, cfg.replace_prob) for _ in range(k)]) * _repeat(mask_f, k)
        t_k = _repeat(t, k)
        negs_t = diffusion.q_sample(negs0, t_k) * _repeat(mask_f, k)
        ctx_k = MusicContext(_repeat(ctx.tokens, k), _repeat(ctx.valid, k), _repeat(ctx.mean, k))
        negs_hat = model.denoiser(negs_t, t_k, ctx_k, _repeat(w, k), _repeat(mask, k))
        pos = _posterior_sample(diffusion, x0_hat, x_t, t)
        negs = _posterior_sample(diffusion, negs_hat, negs_t, t_k)
        t_f = (t - 1).clamp_min(0)
    elif cfg.negatives == "swap_pred":
        intra = (k + 1) // 2
        parts = [replace_dancers(x0_hat, n_dancers, cfg.replace_prob) for _ in range(intra)]
        parts += [torch.roll(x0_hat, shifts=j + 1, dims=0) for j in range(k - intra)]
        negs = torch.cat(parts) * _repeat(mask_f, k)
        pos = x0_hat
        t_f = t
    else:
        raise ConfigError(f"negatives must be 'redenoise' or 'swap_pred', got {cfg.negatives!r}")
    samples = torch.cat([pos * mask_f, negs])
    scores = model.encoder(samples, _repeat(w, k + 1), _repeat(t_f, k + 1), _repeat(mask, k + 1))
    return scores.view(k + 1, b).t()
