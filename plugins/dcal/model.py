"""DCAL on a timm ViT: self-attention (SA) blocks, one global-local cross-attention (GLCA) block and pair-wise
cross-attention (PWCA) that reuses the SA blocks' weights.

- **SA**: each timm block run by hand so its head-averaged attention ``S`` is kept for the rollout.
- **Rollout**: ``S_bar = 0.5 S + 0.5 I`` per block and ``S_hat = S_bar_L ... S_bar_1`` (matrix products); only
  its class-token row is needed, computed with vector-matrix products (``rollout_cls_row``).
- **GLCA** (M = 1, its own weights): on the input of the last SA block, the class token and the top ``R`` patch
  tokens by the rollout's class-token row are the queries; keys and values are all tokens:
  ``softmax(Q_l K_g^T / sqrt(d)) V_g`` (``scaled_dot_product_attention``), then the usual residual + MLP.
- **PWCA** (T = L, training only, no weights of its own): the SA blocks run on image I1 with keys and values
  ``[K1; K2]``, ``[V1; V2]`` where I2 (another training image) is at the same depth of its own SA pass; one
  softmax over all ``2N + 2`` keys.

Outputs: ``sa`` / ``glca`` class tokens and logits (and ``pwca`` in training when a pair is given).
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from zoo.compat import import_timm
from zoo.engines.retrieval.losses import UncertaintyWeighting
from zoo_plugins.dcal.config import DCALConfig


def attention_rollout(attentions: list[torch.Tensor]) -> torch.Tensor:
    """``S_hat_L = S_bar_L @ ... @ S_bar_1`` with ``S_bar = 0.5 S + 0.5 I`` (each S: (B, N, N), row-stochastic)."""
    eye = torch.eye(attentions[0].shape[-1], dtype=attentions[0].dtype, device=attentions[0].device)
    rollout = 0.5 * attentions[0] + 0.5 * eye
    for attn in attentions[1:]:
        rollout = (0.5 * attn + 0.5 * eye) @ rollout
    return rollout


def rollout_cls_row(attentions: list[torch.Tensor]) -> torch.Tensor:
    """The class-token row of :func:`attention_rollout`, ``e_0^T S_bar_L ... S_bar_1`` (B, N), computed with
    vector-matrix products (O(L N^2) instead of O(L N^3))."""
    row = torch.zeros_like(attentions[-1][:, 0])
    row[:, 0] = 1.0
    for attn in reversed(attentions):
        row = 0.5 * (row[:, None, :] @ attn)[:, 0] + 0.5 * row
    return row


def select_local(cls_row: torch.Tensor, ratio: float, prefix: int = 1) -> torch.Tensor:
    """Indices (B, R) of the ``R = max(1, round(ratio * patches))`` patch tokens with the highest accumulated
    attention from the class token (``cls_row``: the rollout's class-token row (B, N)); token indices, so they
    already count the ``prefix`` tokens."""
    cls_row = cls_row[:, prefix:]
    r = max(1, round(ratio * cls_row.shape[1]))
    return cls_row.topk(r, dim=1).indices + prefix


def _qkv(block: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    attn = block.attn
    b, n, _ = x.shape
    qkv = attn.qkv(block.norm1(x)).reshape(b, n, 3, attn.num_heads, -1).permute(2, 0, 3, 1, 4)
    q, k, v = qkv.unbind(0)
    return attn.q_norm(q), attn.k_norm(k), v


def _finish(block: nn.Module, x: torch.Tensor, heads: torch.Tensor) -> torch.Tensor:
    """Merge heads (B, h, N, d) -> (B, N, h d), project, and apply the block's residual + MLP to ``x``."""
    attn = block.attn
    out = attn.proj_drop(attn.proj(attn.norm(heads.transpose(1, 2).flatten(2))))
    x = x + block.drop_path1(block.ls1(out))
    return x + block.drop_path2(block.ls2(block.mlp(block.norm2(x))))


def self_attention(block: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, ...]]:
    """One SA block with its head-averaged attention map and its keys/values (for PWCA partners)."""
    q, k, v = _qkv(block, x)
    weights = (q @ k.transpose(-2, -1) * block.attn.scale).softmax(dim=-1)
    return _finish(block, x, block.attn.attn_drop(weights) @ v), weights.mean(dim=1), (k, v)


def pair_attention(block: nn.Module, x: torch.Tensor, partner_kv: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """The same block (shared weights) with keys/values ``[K1; K2]``, ``[V1; V2]`` and one joint softmax."""
    q, k, v = _qkv(block, x)
    k2, v2 = partner_kv
    return _finish(block, x, F.scaled_dot_product_attention(q, torch.cat([k, k2], 2), torch.cat([v, v2], 2)))


def global_local_attention(block: nn.Module, x: torch.Tensor, local: torch.Tensor) -> torch.Tensor:
    """GLCA: queries from the class token and the selected tokens ``local`` (B, R), keys/values from all."""
    idx = torch.cat([torch.zeros_like(local[:, :1]), local], dim=1)
    selected = x.gather(1, idx[..., None].expand(-1, -1, x.shape[-1]))
    q, _, _ = _qkv(block, selected)
    _, k, v = _qkv(block, x)
    return _finish(block, selected, F.scaled_dot_product_attention(q, k, v))


class DCAL(nn.Module):
    """A timm ViT with a GLCA block, weight-shared PWCA and a classifier per branch."""

    def __init__(self, config: DCALConfig) -> None:
        super().__init__()
        if config.task not in ("fgvc", "reid"):
            from zoo.errors import ConfigError

            raise ConfigError(f"dcal: task must be 'fgvc' or 'reid', got {config.task!r}")
        self.config = config
        timm = import_timm()
        self.vit = timm.create_model(config.vit, pretrained=config.pretrained, img_size=tuple(config.image_size),
                                     patch_size=config.patch_size, embed_dim=config.embed_dim, depth=config.depth,
                                     num_heads=config.num_heads, num_classes=config.num_classes,
                                     drop_path_rate=config.drop_path)
        self.prefix = self.vit.num_prefix_tokens
        dim = config.embed_dim
        if config.glca:
            self.glca = timm.models.vision_transformer.Block(dim, config.num_heads, qkv_bias=True)
            self.glca.load_state_dict(self.vit.blocks[-1].state_dict())  # initialised as the last SA block
            self.glca_norm = nn.LayerNorm(dim, eps=1e-6)
            self.glca_head = nn.Linear(dim, config.num_classes)
        branches = 1 + int(config.glca) + int(config.pwca)
        self.weighting = UncertaintyWeighting(branches)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Patch embedding, class token and position embedding (the ViT's own)."""
        vit = self.vit
        return vit.norm_pre(vit.patch_drop(vit._pos_embed(vit.patch_embed(x))))

    def forward(self, x: torch.Tensor, partner: torch.Tensor | None = None) -> dict[str, Any]:
        """Class tokens and logits of SA and GLCA; PWCA's too when training with ``partner`` indices (B,)
        (image ``partner[i]`` of the batch is the distractor of image ``i``)."""
        vit = self.vit
        h = self.embed(x)
        use_pwca = self.training and self.config.pwca and partner is not None
        p = h
        attentions = []
        for block in vit.blocks[:-1]:
            h_next, attn, kv = self_attention(block, h)
            if use_pwca:
                p = pair_attention(block, p, (kv[0][partner], kv[1][partner]))
            attentions.append(attn)
            h = h_next
        last_in = h
        h, attn, kv = self_attention(vit.blocks[-1], h)
        attentions.append(attn)
        if use_pwca:
            p = pair_attention(vit.blocks[-1], p, (kv[0][partner], kv[1][partner]))
        sa_token = vit.norm(h)[:, 0]
        out: dict[str, Any] = {"sa_token": sa_token, "sa_logits": vit.head(sa_token), "attentions": attentions}
        if self.config.glca:
            cls_row = rollout_cls_row(attentions)
            local = select_local(cls_row, self.config.local_ratio, self.prefix)
            g = global_local_attention(self.glca, last_in, local)
            glca_token = self.glca_norm(g)[:, 0]
            out.update(glca_token=glca_token, glca_logits=self.glca_head(glca_token), local=local, rollout=cls_row)
        if use_pwca:
            pwca_token = vit.norm(p)[:, 0]
            out.update(pwca_token=pwca_token, pwca_logits=vit.head(pwca_token))
        return out

    def descriptor(self, x: torch.Tensor) -> torch.Tensor:
        """Re-ID descriptor: the SA and GLCA class tokens concatenated (L2-normalised)."""
        out = self.forward(x)
        tokens = [out["sa_token"]] + ([out["glca_token"]] if self.config.glca else [])
        return F.normalize(torch.cat(tokens, dim=1), dim=-1)

    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """FGVC prediction: the class probabilities of SA and GLCA added."""
        out = self.forward(x)
        probs = out["sa_logits"].softmax(-1)
        return probs + out["glca_logits"].softmax(-1) if self.config.glca else probs


def build(config: DCALConfig, **kwargs: Any) -> DCAL:
    """Build DCAL (``config.pretrained`` asks timm for the backbone's ImageNet weights)."""
    return DCAL(config, **kwargs)
