"""GLSCL's two interaction modules on frozen text/video embeddings.

- **Global interaction** (no parameters): for caption ``a`` and video ``b``, the frames are pooled with weights
  ``softmax_t(c_a . f_bt / temperature)`` (the caption's sentence embedding ``c_a`` attends to the frames) and
  the score is the cosine of ``c_a`` and that text-conditioned video feature.
- **Local interaction** (shared): ``Q`` learnable queries go through one transformer decoder against the frames
  (visual concepts ``v_q``) and, with the same queries and the same decoder, against the words (textual concepts
  ``t_q``); the local score is ``mean_q <t_q, v_q>`` of the L2-normalised concepts. Concepts are computed once
  per item, so a (caption, video) pair costs two dot products, not a cross-modal network run.
- score = global + ``local_weight`` * local.
"""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from zoo_plugins.glscl.config import GLSCLConfig


def global_scores(text_cls: torch.Tensor, frames: torch.Tensor, frame_mask: torch.Tensor,
                  temperature: float) -> torch.Tensor:
    """(Nt, Nv) scores of the parameter-free global interaction (module docstring)."""
    logits = torch.einsum("ad,bvd->abv", text_cls, frames) / temperature
    logits = logits.masked_fill(~frame_mask.bool()[None], float("-inf"))
    pooled = torch.einsum("abv,bvd->abd", logits.softmax(-1), frames)  # text-conditioned video features
    return torch.einsum("ad,abd->ab", F.normalize(text_cls, dim=-1), F.normalize(pooled, dim=-1))


def local_scores(text_concepts: torch.Tensor, video_concepts: torch.Tensor) -> torch.Tensor:
    """(Nt, Nv) mean over queries of the matching concepts' inner products (concepts L2-normalised)."""
    return torch.einsum("aqd,bqd->ab", text_concepts, video_concepts) / text_concepts.shape[1]


class GLSCL(nn.Module):
    """Shared learnable queries and decoder, and the learnable contrastive logit scale."""

    def __init__(self, config: GLSCLConfig) -> None:
        super().__init__()
        self.config = config
        self.queries = nn.Parameter(torch.rand(config.queries, config.dim))
        layer = nn.TransformerDecoderLayer(config.dim, config.heads, config.ffn, dropout=0.0, batch_first=True)
        self.decoder = nn.TransformerDecoder(layer, config.layers)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def concepts(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, Q, D) L2-normalised concepts of one modality's tokens (B, N, D) with mask (B, N)."""
        queries = self.queries.expand(tokens.shape[0], -1, -1)
        out = self.decoder(queries, tokens, memory_key_padding_mask=~mask.bool())
        return F.normalize(out, dim=-1)

    def encode(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Per-item features: textual and visual concepts (everything a retrieval index needs to store)."""
        return {"text_concepts": self.concepts(batch["text_tokens"], batch["text_mask"]),
                "video_concepts": self.concepts(batch["video_frames"], batch["video_mask"])}

    def scores(self, batch: dict[str, torch.Tensor], local: bool = True) -> dict[str, torch.Tensor]:
        """``global``, ``local`` and combined ``score`` (Nt, Nv) of every caption against every video."""
        g = global_scores(batch["text_cls"], batch["video_frames"], batch["video_mask"], self.config.temperature)
        out = {"global": g, "score": g}
        if local:
            encoded = self.encode(batch)
            loc = local_scores(encoded["text_concepts"], encoded["video_concepts"])
            out.update(encoded, local=loc, score=g + self.config.local_weight * loc)
        return out

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Training scores (global + local); at inference the local term follows ``local_at_inference``."""
        return self.scores(batch, local=self.training or self.config.local_at_inference)


def build(config: GLSCLConfig, **kwargs: Any) -> GLSCL:
    """Build GLSCL's heads (the CLIP encoders are not part of it: inputs are their frozen embeddings)."""
    return GLSCL(config, **kwargs)
