"""GCD's networks: the Group Diffusion Denoising Network G and the Contrastive Encoder f (spec §1.3).

Shapes: B groups, N = ``max_dancers`` dancer slots, T frames, D = ``d_model``. ``data_mask [B, N, T]`` (bool) marks
valid dancer-frames; padded slots never influence valid outputs (they are masked as attention keys, excluded from
the group statistics and zeroed at the output).

Denoiser G(x_m, m, c, w) -> x0-hat, per block l = 1..L:
  (a) Music-Motion Transformer, per dancer: x += FiLM(SA(LN x)); x += FiLM(CA(LN x, [c_1..c_T, tau])); x += FiLM(FF(LN x))
  (b) Group Global Attention over all N*T tokens: x += FiLM(SA(LN x)); x += FF(LN x)
  (c) Group Modulation: x = S(w) * (x - mu) / sigma + b(w), statistics over the valid N*T tokens
with w = MLP_8(z + mean_t c_t) + e_n. Attention runs through ``torch.nn.functional.scaled_dot_product_attention``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from zoo.dance.representation import POSE_DIMS
from zoo.errors import ConfigError


# --------------------------------------------------------------------------------------------------- helpers
def sinusoidal(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """Transformer sinusoidal embedding of (float) ``positions [...]`` -> ``[..., dim]``."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=positions.device, dtype=torch.float32) / half)
    args = positions.float()[..., None] * freqs
    emb = torch.cat([torch.sin(args), torch.cos(args)], dim=-1)
    return F.pad(emb, (0, dim - 2 * half))


def frame_positions(length: int, dim: int, device: Any) -> torch.Tensor:
    """Additive positional encoding ``[length, dim]`` for frame indices 0..length-1."""
    return sinusoidal(torch.arange(length, device=device), dim)


def _attn_mask(key_valid: torch.Tensor | None) -> torch.Tensor | None:
    """Boolean SDPA mask ``[B, 1, 1, S]`` from valid keys ``[B, S]``; a row with no valid key may see every key
    (its output belongs to a padded slot and is discarded), which keeps SDPA free of NaN."""
    if key_valid is None:
        return None
    empty = ~key_valid.any(dim=-1, keepdim=True)
    return (key_valid | empty)[:, None, None, :]


class Attention(nn.Module):
    """Multi-head (self- or cross-) attention with key-padding masks through SDPA."""

    def __init__(self, dim: int, heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"d_model {dim} must be divisible by heads {heads}")
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.out = nn.Linear(dim, dim)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, memory: torch.Tensor | None = None,
                key_valid: torch.Tensor | None = None) -> torch.Tensor:
        """``x [B, L, D]`` attends to ``memory [B, S, D]`` (``x`` itself when None); ``key_valid [B, S]``."""
        mem = x if memory is None else memory
        b, length, dim = x.shape
        q = self.q(x).view(b, length, self.heads, -1).transpose(1, 2)
        k, v = self.kv(mem).view(b, mem.shape[1], 2, self.heads, -1).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=_attn_mask(key_valid),
                                             dropout_p=self.dropout if self.training else 0.0)
        return self.out(out.transpose(1, 2).reshape(b, length, dim))


class FiLM(nn.Module):
    """Feature-wise linear modulation ``(scale + 1) * h + shift`` from a context vector (zero-initialised)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.proj = nn.Sequential(nn.Mish(), nn.Linear(dim, 2 * dim))
        nn.init.zeros_(self.proj[1].weight)
        nn.init.zeros_(self.proj[1].bias)

    def forward(self, h: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """``h [B, L, D]`` modulated by ``context [B, D]``."""
        scale, shift = self.proj(context)[:, None].chunk(2, dim=-1)
        return (scale + 1) * h + shift


def feed_forward(dim: int, hidden: int, dropout: float) -> nn.Sequential:
    """The 2-layer GELU feed-forward of every block."""
    return nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, dim))


def mlp(dim: int, hidden_layers: int, act: type[nn.Module] = nn.GELU) -> nn.Sequential:
    """``hidden_layers`` x (Linear(dim, dim) + act) followed by a Linear(dim, dim) output."""
    layers: list[nn.Module] = []
    for _ in range(hidden_layers):
        layers += [nn.Linear(dim, dim), act()]
    layers.append(nn.Linear(dim, dim))
    return nn.Sequential(*layers)


class TimestepEmbedding(nn.Module):
    """The diffusion-step embedding: sinusoidal(D) -> MLP with ``hidden_layers`` GELU hidden layers (blog: 3)."""

    def __init__(self, dim: int, hidden_layers: int) -> None:
        super().__init__()
        self.dim = dim
        self.mlp = mlp(dim, hidden_layers)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """``t [...]`` (long) -> ``[..., D]``."""
        return self.mlp(sinusoidal(t, self.dim))


class MappingNetwork(nn.Module):
    """StyleGAN-like mapping MLP_k: pixel-normalise the input, then k x (Linear + LeakyReLU(0.2))."""

    def __init__(self, dim: int, layers: int) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        for _ in range(layers):
            blocks += [nn.Linear(dim, dim), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, D] -> [B, D]``."""
        x = x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + 1e-8)
        return self.net(x)


class GroupModulation(nn.Module):
    """``S(w) * (h - mu(h)) / sigma(h) + b(w)``, statistics per channel over the group's valid tokens.

    One Linear(D, 2D) gives (S, b); b starts at 0 and S at 1 (bias), so the block starts as a group norm.
    The normalisation itself is ``ops.group_modulation`` from the kernels registry.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.proj = nn.Linear(dim, 2 * dim)
        nn.init.normal_(self.proj.weight, std=0.02)
        with torch.no_grad():
            self.proj.bias.zero_()
            self.proj.bias[:dim].fill_(1.0)

    def forward(self, h: torch.Tensor, valid: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """``h [B, L, D]``, ``valid [B, L]`` bool, ``w [B, D]``."""
        from zoo.kernels import ops

        scale, shift = self.proj(w).chunk(2, dim=-1)
        return ops.group_modulation(h, valid, scale.contiguous(), shift.contiguous(), eps=1e-8)


# --------------------------------------------------------------------------------------------------- blocks
class EncoderLayer(nn.Module):
    """Pre-LN transformer encoder layer (the music encoder)."""

    def __init__(self, dim: int, heads: int, ff: int, dropout: float) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, dropout)
        self.ff = feed_forward(dim, ff, dropout)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
        """``x [B, T, D]`` with valid frames ``[B, T]``."""
        x = x + self.drop(self.attn(self.norm1(x), key_valid=valid))
        return x + self.drop(self.ff(self.norm2(x)))


class MusicMotionLayer(nn.Module):
    """Local per-dancer layer: masked self-attention, cross-attention to the music, FF; FiLM after each."""

    def __init__(self, dim: int, heads: int, ff: int, dropout: float, cross: bool = True) -> None:
        super().__init__()
        self.norm_sa, self.norm_ff = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.self_attn = Attention(dim, heads, dropout)
        self.film_sa, self.film_ff = FiLM(dim), FiLM(dim)
        self.cross = cross
        if cross:
            self.norm_ca = nn.LayerNorm(dim)
            self.cross_attn = Attention(dim, heads, dropout)
            self.film_ca = FiLM(dim)
        self.ff = feed_forward(dim, ff, dropout)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, valid: torch.Tensor, context: torch.Tensor,
                memory: torch.Tensor | None = None, memory_valid: torch.Tensor | None = None) -> torch.Tensor:
        """``x [B*N, T, D]`` (one row per dancer), ``valid [B*N, T]``, ``context [B*N, D]``."""
        x = x + self.drop(self.film_sa(self.self_attn(self.norm_sa(x), key_valid=valid), context))
        if self.cross and memory is not None:
            ca = self.cross_attn(self.norm_ca(x), memory, key_valid=memory_valid)
            x = x + self.drop(self.film_ca(ca, context))
        return x + self.drop(self.film_ff(self.ff(self.norm_ff(x)), context))


class GroupGlobalLayer(nn.Module):
    """Group Global Attention over all N*T tokens of a group (FiLM after the attention), FF, Group Modulation."""

    def __init__(self, dim: int, heads: int, ff: int, dropout: float) -> None:
        super().__init__()
        self.norm_sa, self.norm_ff = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, dropout)
        self.film = FiLM(dim)
        self.ff = feed_forward(dim, ff, dropout)
        self.modulation = GroupModulation(dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, valid: torch.Tensor, context: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """``x [B, N*T, D]``, ``valid [B, N*T]``, ``context, w [B, D]``."""
        x = x + self.drop(self.film(self.attn(self.norm_sa(x), key_valid=valid), context))
        x = x + self.drop(self.ff(self.norm_ff(x)))
        return self.modulation(x, valid, w)


# --------------------------------------------------------------------------------------------------- denoiser
@dataclass
class MusicContext:
    """Encoded music of a batch: tokens ``c [B, T, D]``, valid frames ``[B, T]`` and the masked mean ``[B, D]``."""

    tokens: torch.Tensor
    valid: torch.Tensor
    mean: torch.Tensor


def masked_mean(x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean of ``x [B, L, D]`` over positions where ``valid [B, L]``."""
    weights = valid.to(x.dtype)[..., None]
    return (x * weights).sum(1) / weights.sum(1).clamp_min(1.0)


class GroupDenoiser(nn.Module):
    """The Group Diffusion Denoising Network G(x_m, m, c, w) -> x0-hat."""

    def __init__(self, cfg: Any) -> None:
        super().__init__()
        d = cfg.d_model
        self.cfg = cfg
        self.music_in = nn.Linear(cfg.music_dim, d)
        self.music_layers = nn.ModuleList(EncoderLayer(d, cfg.heads, cfg.ff_dim, cfg.dropout)
                                          for _ in range(cfg.music_layers))
        self.music_norm = nn.LayerNorm(d)
        self.null_music = nn.Parameter(torch.zeros(d))  # classifier-free guidance (public-code option)
        self.time = TimestepEmbedding(d, cfg.time_mlp_layers)
        self.pool = nn.Linear(d, d)
        self.mapping = MappingNetwork(d, cfg.mapping_layers)
        self.count_embedding = nn.Embedding(cfg.max_dancers, d)  # e_n, n = 1..N_max
        self.motion_in = nn.Linear(cfg.motion_dim, d)
        self.local = nn.ModuleList(MusicMotionLayer(d, cfg.heads, cfg.ff_dim, cfg.dropout)
                                   for _ in range(cfg.layers))
        self.glob = nn.ModuleList(GroupGlobalLayer(d, cfg.heads, cfg.ff_dim, cfg.dropout)
                                  for _ in range(cfg.layers))
        self.out_norm = nn.LayerNorm(d)
        self.out = nn.Linear(d, cfg.motion_dim)

    def encode_music(self, music: torch.Tensor, valid: torch.Tensor,
                     drop: torch.Tensor | None = None) -> MusicContext:
        """Music features ``[B, T, F]`` -> tokens ``c``; rows with ``drop`` use the learned null music."""
        h = self.music_in(music) + frame_positions(music.shape[1], self.cfg.d_model, music.device)
        for layer in self.music_layers:
            h = layer(h, valid)
        h = self.music_norm(h)
        if drop is not None:
            h = torch.where(drop[:, None, None], self.null_music.expand_as(h), h)
        return MusicContext(h, valid, masked_mean(h, valid))

    def group_embedding(self, music: MusicContext, n_dancers: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """``w = MLP_8(z + mean_t c_t) + e_n`` with ``z ~ N(0, I)`` of shape ``[B, D]``."""
        return self.mapping(z + music.mean) + self.count_embedding(n_dancers.long().clamp(1, self.cfg.max_dancers) - 1)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, music: MusicContext, w: torch.Tensor,
                data_mask: torch.Tensor) -> torch.Tensor:
        """``x_t [B, N, T, 151]``, ``t [B]`` -> x0-hat ``[B, N, T, 151]`` (zero at padded dancer-frames)."""
        b, n, length, _ = x_t.shape
        d = self.cfg.d_model
        tau = self.time(t)  # [B, D]
        context = tau + self.pool(music.mean)
        # cross-attention memory: the music tokens plus the timestep token (blog: c = {c_1..c_T, tau})
        memory = torch.cat([music.tokens, tau[:, None]], dim=1)
        memory_valid = torch.cat([music.valid, torch.ones(b, 1, dtype=torch.bool, device=x_t.device)], dim=1)
        memory = memory[:, None].expand(b, n, *memory.shape[1:]).reshape(b * n, *memory.shape[1:])
        memory_valid = memory_valid[:, None].expand(b, n, -1).reshape(b * n, -1)
        ctx_local = context[:, None].expand(b, n, d).reshape(b * n, d)
        valid_local = data_mask.reshape(b * n, length)
        valid_global = data_mask.reshape(b, n * length)
        h = self.motion_in(x_t) + frame_positions(length, d, x_t.device)
        h = h.reshape(b * n, length, d)
        for local, glob in zip(self.local, self.glob):
            h = local(h, valid_local, ctx_local, memory, memory_valid)
            h = glob(h.reshape(b, n * length, d), valid_global, context, w).reshape(b * n, length, d)
        out = self.out(self.out_norm(h)).reshape(b, n, length, -1)
        return out * data_mask[..., None].to(out.dtype)


# --------------------------------------------------------------------------------------------------- encoder f
class ContrastiveEncoder(nn.Module):
    """f(x, w): the denoiser's design without cross-attention; a time-aware token is appended to every dancer's
    sequence; the valid output frames are averaged (:meth:`readout`) and mapped to one logit (log f)."""

    def __init__(self, cfg: Any) -> None:
        super().__init__()
        d = cfg.d_model
        self.cfg = cfg
        self.motion_in = nn.Linear(POSE_DIMS, d)
        self.time = TimestepEmbedding(d, cfg.time_mlp_layers)
        self.style = nn.Linear(d, d)
        self.local = nn.ModuleList(MusicMotionLayer(d, cfg.heads, cfg.ff_dim, cfg.dropout, cross=False)
                                   for _ in range(cfg.contrastive_layers))
        self.glob = nn.ModuleList(GroupGlobalLayer(d, cfg.heads, cfg.ff_dim, cfg.dropout)
                                  for _ in range(cfg.contrastive_layers))
        self.out_norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, 1)

    def forward(self, x: torch.Tensor, w: torch.Tensor, t: torch.Tensor, data_mask: torch.Tensor) -> torch.Tensor:
        """``x [B, N, T, >=147]`` (contacts ignored), ``w [B, D]``, ``t [B]`` -> logit ``[B]``."""
        b, n, length, _ = x.shape
        d = self.cfg.d_model
        context = self.time(t) + self.style(w)  # [B, D]
        h = self.motion_in(x[..., :POSE_DIMS]) + frame_positions(length, d, x.device)
        h = torch.cat([h, context[:, None, None].expand(b, n, 1, d)], dim=2)  # time-aware token per dancer
        token_valid = data_mask.any(dim=-1, keepdim=True)
        valid = torch.cat([data_mask, token_valid], dim=2)  # [B, N, T+1]
        steps = length + 1
        ctx_local = context[:, None].expand(b, n, d).reshape(b * n, d)
        h = h.reshape(b * n, steps, d)
        for local, glob in zip(self.local, self.glob):
            h = local(h, valid.reshape(b * n, steps), ctx_local)
            h = glob(h.reshape(b, n * steps, d), valid.reshape(b, n * steps), context, w).reshape(b * n, steps, d)
        return self.head(self.readout(self.out_norm(h).reshape(b, n, steps, d), valid)).squeeze(-1)

    def readout(self, h: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """The pooled vector ``[B, D]`` of the output sequence ``h [B, N, T+1, D]`` (last token: the time-aware
        one) with validity ``[B, N, T+1]``, as ``cfg.encoder_pool`` says: ``frames`` averages the valid motion
        frames of every dancer (the blog: "the output sequence is averaged"), ``tokens`` also averages the
        appended time-aware tokens, ``first`` takes token 0 (the public code)."""
        b, n, steps, d = h.shape
        pool = self.cfg.encoder_pool
        if pool == "frames":
            return masked_mean(h[:, :, :-1].reshape(b, n * (steps - 1), d), valid[:, :, :-1].reshape(b, -1))
        if pool == "tokens":
            return masked_mean(h.reshape(b, n * steps, d), valid.reshape(b, -1))
        if pool == "first":
            return h[:, 0, 0]
        raise ConfigError(f"gcd: encoder_pool must be 'frames', 'tokens' or 'first', got {pool!r}")


class GCD(nn.Module):
    """The trainable GCD system: denoiser G and contrastive encoder f (trained jointly on one loss).

    The diffusion schedule is not a parameter; :meth:`diffusion` builds it from the config.
    """

    def __init__(self, config: Any) -> None:
        cfg = config
        super().__init__()
        self.cfg = cfg
        self.denoiser = GroupDenoiser(cfg)
        self.encoder = ContrastiveEncoder(cfg)

    def diffusion(self, spacing: str | int | None = None) -> Any:
        """The training diffusion (``spacing=None``) or a respaced one for sampling (e.g. ``"ddim50"``)."""
        from zoo.engines.diffusion import GaussianDiffusion

        base = GaussianDiffusion.from_schedule(self.cfg.schedule, self.cfg.diffusion_steps, prediction="x0")
        return base if spacing is None else base.respace(spacing)


def data_mask_from(n_dancers: torch.Tensor, frame_mask: torch.Tensor, max_dancers: int) -> torch.Tensor:
    """``[B, N_max, T]`` validity from dancer counts ``[B]`` and valid frames ``[B, T]``."""
    slots = torch.arange(max_dancers, device=frame_mask.device)[None, :] < n_dancers[:, None].to(frame_mask.device)
    return slots[:, :, None] & frame_mask[:, None, :].bool()


def count_parameters(module: nn.Module) -> int:
    """Trainable parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
