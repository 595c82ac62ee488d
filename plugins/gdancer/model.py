"""GDanceR's network (spec §2.2): Transformer Music Encoder, Initial Pose Generator, Group Motion Generator.

Shapes: B groups, N dancer slots, T frames, P = pose size (75 for ``axis_angle``), d_a / d_h / d_k as in the config.
``dancer_valid [B, N]`` marks real dancers; padded slots are never attended to, and their outputs are zeroed.

- Music encoder: ``U = PE(M W_a^u)``, then ``music_layers`` transformer encoder layers (self-attention + FF, post-LN
  as in Vaswani et al.) -> ``a_t`` in R^{d_a}.
- Initial Pose Generator: ``y_0^i = MLP([mean_t a_t ; tau_0^i])`` (the root channels are predicted as an offset from
  tau_0^i, see the README).
- Group Motion Generator, per frame t: ``h_t^i = LSTM(y_{t-1}^i, h_{t-1}^i)`` (one LSTM shared by all dancers), the
  cross-entity attention ``alpha_ij = softmax_j(q_i.k_j / sqrt(d_k) + e_ij)``, ``g_i = sum_j alpha_ij (v_j + e_ij gamma)``
  with the spatial encoding ``e_ij = exp(-|tau_i - tau_j|^2 / sqrt(3))``, fusion ``z_i = h_i + g_i`` and the MLP
  decoder ``y_t^i = MLP([z_t^i ; a_t])`` (with ``root_residual`` its root channels are added to the previous root).

Training is teacher-forced (:meth:`GDanceR.teacher_forced`: every LSTM input is the ground-truth previous pose, so
the whole window runs in parallel); generation is autoregressive for any number of frames and dancers
(:meth:`GDanceR.generate`).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from zoo.errors import ConfigError

from .pose import pose_dim

#: Dimension of the position vector tau (3D root translation); the spatial encoding divides by sqrt(D_TAU).
D_TAU: int = 3
FUSIONS: tuple[str, ...] = ("add", "concat", "none")
SPATIAL_POSITIONS: tuple[str, ...] = ("previous", "initial")


def sinusoidal_positions(length: int, dim: int, device: Any = None) -> torch.Tensor:
    """The Transformer's sinusoidal positional encoding ``[length, dim]``."""
    pos = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=device, dtype=torch.float32) / max(half, 1))
    emb = torch.cat([torch.sin(pos * freqs), torch.cos(pos * freqs)], dim=-1)
    return F.pad(emb, (0, dim - 2 * half))


def spatial_encoding(tau: torch.Tensor) -> torch.Tensor:
    """``e_ij = exp(-||tau_i - tau_j||^2 / sqrt(d_tau))`` for positions ``tau [..., N, 3]`` -> ``[..., N, N]``."""
    if tau.shape[-1] != D_TAU:
        raise ValueError(f"positions must be [..., N, {D_TAU}], got {tuple(tau.shape)}")
    sq = ((tau[..., :, None, :] - tau[..., None, :, :]) ** 2).sum(-1)
    return torch.exp(-sq / math.sqrt(D_TAU))


def mlp(inp: int, hidden: int, out: int) -> nn.Sequential:
    """Two hidden layers with ReLU (the blog's "MLP"; depth and width are our choice)."""
    return nn.Sequential(nn.Linear(inp, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, out))


class MusicEncoder(nn.Module):
    """Transformer Music Encoder: ``A = FF(softmax(U^q U^k^T / sqrt(d_k)) U^v)`` over ``U = PE(M W_a^u)``."""

    def __init__(self, music_dim: int, d_audio: int, layers: int, heads: int, ff: int, dropout: float) -> None:
        super().__init__()
        self.embed = nn.Linear(music_dim, d_audio)
        layer = nn.TransformerEncoderLayer(d_audio, heads, ff, dropout, batch_first=True)
        self.layers = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)

    def forward(self, music: torch.Tensor, frame_valid: torch.Tensor) -> torch.Tensor:
        """``music [B, T, F]``, ``frame_valid [B, T]`` -> ``a [B, T, d_a]`` (padded frames are not attended to)."""
        u = self.embed(music)
        u = u + sinusoidal_positions(u.shape[1], u.shape[2], u.device).to(u.dtype)
        pad = ~frame_valid
        pad = pad & frame_valid.any(dim=1, keepdim=True)  # a fully padded row attends everywhere (no NaN)
        return self.layers(u, src_key_padding_mask=pad)


class CrossEntityAttention(nn.Module):
    """Single-head attention across the dancers of one frame, biased by the spatial encoding e_ij (blog Part 2).

    ``k = h W^k``, ``q = h W^q``, ``v = h W^v`` (no biases, W^v keeps d_v = d_h); ``gamma`` in R^{d_v} is the
    learnable bias vector scaled by e_ij in the values.
    """

    def __init__(self, d_hidden: int, d_key: int) -> None:
        super().__init__()
        self.d_key = d_key
        self.w_q = nn.Linear(d_hidden, d_key, bias=False)
        self.w_k = nn.Linear(d_hidden, d_key, bias=False)
        self.w_v = nn.Linear(d_hidden, d_hidden, bias=False)
        self.gamma = nn.Parameter(torch.randn(d_hidden) * 0.02)

    def forward(self, h: torch.Tensor, tau: torch.Tensor, valid: torch.Tensor,
                return_weights: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """``h [M, N, d_h]``, positions ``tau [M, N, 3]``, ``valid [M, N]`` -> ``g [M, N, d_h]`` (and ``alpha``)."""
        q, k, v = self.w_q(h), self.w_k(h), self.w_v(h)
        e = spatial_encoding(tau)  # [M, N, N]
        logits = q @ k.transpose(-1, -2) / math.sqrt(self.d_key) + e
        keys = valid[:, None, :] | ~valid.any(dim=-1)[:, None, None]  # a group with no dancer: no NaN
        alpha = torch.softmax(logits.masked_fill(~keys, float("-inf")), dim=-1)
        g = alpha @ v + (alpha * e).sum(-1, keepdim=True) * self.gamma
        g = g * valid[..., None].to(g.dtype)
        return (g, alpha) if return_weights else g


class GDanceR(nn.Module):
    """The full model; see the module docstring. ``cfg`` is a :class:`~zoo_plugins.gdancer.config.GDanceRConfig`."""

    def __init__(self, config: Any) -> None:
        cfg = config
        super().__init__()
        if cfg.fusion not in FUSIONS:
            raise ConfigError(f"gdancer: fusion must be one of {FUSIONS}, got {cfg.fusion!r}")
        if cfg.spatial_positions not in SPATIAL_POSITIONS:
            raise ConfigError(f"gdancer: spatial_positions must be one of {SPATIAL_POSITIONS}, "
                              f"got {cfg.spatial_positions!r}")
        if cfg.fusion != "add" and not cfg.cross_entity:
            raise ConfigError("gdancer: fusion 'concat'/'none' needs the cross-entity attention (cross_entity=True)")
        self.cfg = cfg
        self.pose_dim = pose_dim(cfg.pose_repr)
        self.music = MusicEncoder(cfg.music_dim, cfg.d_audio, cfg.music_layers, cfg.music_heads, cfg.music_ff,
                                  cfg.dropout)
        self.initial_pose = mlp(cfg.d_audio + D_TAU, cfg.mlp_hidden, self.pose_dim)
        self.lstm = nn.LSTM(self.pose_dim, cfg.d_hidden, num_layers=cfg.lstm_layers, batch_first=True)
        self.attention = CrossEntityAttention(cfg.d_hidden, cfg.d_key) if cfg.cross_entity else None
        d_z = 2 * cfg.d_hidden if cfg.fusion == "concat" else cfg.d_hidden
        self.decoder = mlp(d_z + cfg.d_audio, cfg.mlp_hidden, self.pose_dim)

    # ------------------------------------------------------------------------------------------- pieces
    def encode_music(self, music: torch.Tensor, frame_valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``a [B, T, d_a]`` and its mean over the valid frames ``[B, d_a]``."""
        a = self.music(music, frame_valid)
        w = frame_valid[..., None].to(a.dtype)
        return a, (a * w).sum(1) / w.sum(1).clamp_min(1.0)

    def initial_poses(self, a_mean: torch.Tensor, tau0: torch.Tensor) -> torch.Tensor:
        """``y_0 = MLP([mean_t a_t ; tau_0])`` for every dancer: ``[B, N, P]``; the root channels are tau_0 plus
        the MLP's root output."""
        n = tau0.shape[1]
        y0 = self.initial_pose(torch.cat([a_mean[:, None].expand(-1, n, -1), tau0], dim=-1))
        return torch.cat([y0[..., :3] + tau0, y0[..., 3:]], dim=-1)

    def fuse_and_decode(self, h: torch.Tensor, tau: torch.Tensor, valid: torch.Tensor, a_t: torch.Tensor,
                        prev_root: torch.Tensor) -> torch.Tensor:
        """One frame for many groups: ``h [M, N, d_h]``, ``tau [M, N, 3]``, ``valid [M, N]``, ``a_t [M, d_a]``,
        the previous roots ``prev_root [M, N, 3]`` -> ``y_t [M, N, P]`` (with ``root_residual`` the decoder's root
        channels are a displacement from ``prev_root``)."""
        if self.attention is None:
            z = h
        else:
            g = self.attention(h, tau, valid)
            z = h + g if self.cfg.fusion == "add" else torch.cat([h, g], -1) if self.cfg.fusion == "concat" else g
        y = self.decoder(torch.cat([z, a_t[:, None].expand(-1, z.shape[1], -1)], dim=-1))
        if self.cfg.root_residual:
            y = torch.cat([y[..., :3] + prev_root, y[..., 3:]], dim=-1)
        return y

    def _tau(self, previous: torch.Tensor, tau0: torch.Tensor) -> torch.Tensor:
        return previous[..., :3] if self.cfg.spatial_positions == "previous" else tau0

    # ------------------------------------------------------------------------------------------- passes
    def teacher_forced(self, poses: torch.Tensor, music: torch.Tensor, dancer_valid: torch.Tensor,
                       frame_valid: torch.Tensor, tau0: torch.Tensor | None = None, sample_prob: float = 0.0,
                       generator: torch.Generator | None = None) -> torch.Tensor:
        """Predicted poses ``[B, N, T, P]`` for ground-truth ``poses [B, N, T, P]``: frame 0 from the Initial Pose
        Generator (tau_0 defaults to the ground-truth first root), frame t from the ground-truth pose at t-1 or,
        with probability ``sample_prob`` per dancer and frame (scheduled sampling), from the model's own
        prediction of frame t-1 (detached), which makes the pass sequential."""
        b, n, t, p = poses.shape
        a, a_mean = self.encode_music(music, frame_valid)
        tau0 = poses[:, :, 0, :3] if tau0 is None else tau0
        y0 = self.initial_poses(a_mean, tau0)
        if t == 1:
            return y0[:, :, None] * dancer_valid[..., None, None].to(y0.dtype)
        if sample_prob > 0:
            return self._scheduled(poses, a, y0, tau0, dancer_valid, sample_prob, generator)
        prev = poses[:, :, :-1]
        if self.training and self.cfg.input_noise > 0:  # robustness to the model's own errors at generation time
            prev = prev + self.cfg.input_noise * torch.randn_like(prev)
        h, _ = self.lstm(prev.reshape(b * n, t - 1, p))
        h = h.reshape(b, n, t - 1, -1).transpose(1, 2).reshape(b * (t - 1), n, -1)
        tau = self._tau(prev, tau0[:, :, None].expand(-1, -1, t - 1, -1))
        tau = tau.transpose(1, 2).reshape(b * (t - 1), n, 3)
        valid = dancer_valid[:, None].expand(-1, t - 1, -1).reshape(b * (t - 1), n)
        prev_root = prev[..., :3].transpose(1, 2).reshape(b * (t - 1), n, 3)
        y = self.fuse_and_decode(h, tau, valid, a[:, 1:].reshape(b * (t - 1), -1), prev_root)
        y = y.reshape(b, t - 1, n, p).transpose(1, 2)
        out = torch.cat([y0[:, :, None], y], dim=2)
        return out * dancer_valid[..., None, None].to(out.dtype)

    def _scheduled(self, poses: torch.Tensor, a: torch.Tensor, y0: torch.Tensor, tau0: torch.Tensor,
                   dancer_valid: torch.Tensor, sample_prob: float, generator: torch.Generator | None
                   ) -> torch.Tensor:
        """The scheduled-sampling pass of :meth:`teacher_forced`, one frame at a time."""
        b, n, t, p = poses.shape
        mask = dancer_valid[..., None].to(poses.dtype)
        frames, state, previous = [y0 * mask], None, y0 * mask
        for step in range(1, t):
            own = torch.rand(b, n, 1, generator=generator).to(poses.device) < sample_prob
            inp = torch.where(own, previous.detach(), poses[:, :, step - 1])
            if self.training and self.cfg.input_noise > 0:
                inp = inp + self.cfg.input_noise * torch.randn_like(inp)
            h, state = self.lstm(inp.reshape(b * n, 1, p), state)
            previous = self.fuse_and_decode(h.reshape(b, n, -1), self._tau(inp, tau0), dancer_valid, a[:, step],
                                            inp[..., :3]) * mask
            frames.append(previous)
        return torch.stack(frames, dim=2)

    @torch.no_grad()
    def generate(self, music: torch.Tensor, tau0: torch.Tensor, dancer_valid: torch.Tensor,
                 frame_valid: torch.Tensor | None = None,
                 on_frame: Callable[[int, torch.Tensor], None] | None = None) -> torch.Tensor:
        """Autoregressive generation: poses ``[B, N, T, P]`` for ``music [B, T, F]`` (any T) and start positions
        ``tau0 [B, N, 3]`` (any N); each frame's poses are fed back as the next LSTM input."""
        b, t = music.shape[:2]
        n = tau0.shape[1]
        if frame_valid is None:
            frame_valid = torch.ones(b, t, dtype=torch.bool, device=music.device)
        a, a_mean = self.encode_music(music, frame_valid)
        mask = dancer_valid[..., None].to(music.dtype)
        y = self.initial_poses(a_mean, tau0) * mask
        frames = [y]
        state = None
        for step in range(1, t):
            h, state = self.lstm(y.reshape(b * n, 1, -1), state)
            y = self.fuse_and_decode(h.reshape(b, n, -1), self._tau(y, tau0), dancer_valid, a[:, step],
                                     y[..., :3]) * mask
            frames.append(y)
            if on_frame is not None:
                on_frame(step, y)
        return torch.stack(frames, dim=2)


def count_parameters(module: nn.Module) -> int:
    """Trainable parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
