"""The cost comparison of the paper's claim: a cross-modal baseline that runs a decoder for every (caption,
video) pair (caption tokens attending to the video's frames, then a score head), against GLSCL, whose decoder
runs once per item. FLOPs are counted by ``torch.utils.flop_counter`` on meta tensors (nothing is computed)."""
from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from zoo_plugins.glscl.config import GLSCLConfig
from zoo_plugins.glscl.model import GLSCL


class CrossModalScorer(nn.Module):
    """Per pair: caption tokens cross-attend to the frames (a decoder of GLSCL's size), mean-pooled, scored."""

    def __init__(self, config: GLSCLConfig) -> None:
        super().__init__()
        layer = nn.TransformerDecoderLayer(config.dim, config.heads, config.ffn, dropout=0.0, batch_first=True)
        self.decoder = nn.TransformerDecoder(layer, config.layers)
        self.score = nn.Linear(config.dim, 1)

    def forward(self, tokens: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
        """(Nt, L, D) captions x (Nv, T, D) videos -> (Nt, Nv) scores: Nt * Nv decoder runs."""
        nt, nv = tokens.shape[0], frames.shape[0]
        pairs_t = tokens.repeat_interleave(nv, dim=0)
        pairs_v = frames.repeat(nt, 1, 1)
        return self.score(self.decoder(pairs_t, pairs_v).mean(1)).reshape(nt, nv)


def retrieval_flops(config: GLSCLConfig, captions: int, videos: int) -> dict[str, float]:
    """FLOPs to score ``captions`` x ``videos``: GLSCL (global + local), its global part alone, the baseline."""
    d, length, frames = config.dim, config.words, config.frames
    with torch.device("meta"):
        model, baseline = GLSCL(config).eval(), CrossModalScorer(config)
        batch = {"text_tokens": torch.empty(captions, length, d), "text_mask": torch.ones(captions, length),
                 "text_cls": torch.empty(captions, d), "video_frames": torch.empty(videos, frames, d),
                 "video_mask": torch.ones(videos, frames)}
        counts = {}
        for name, fn in (("glscl", lambda: model.scores(batch, local=True)),
                         ("glscl_global", lambda: model.scores(batch, local=False)),
                         ("cross_modal", lambda: baseline(batch["text_tokens"], batch["video_frames"]))):
            with FlopCounterMode(display=False) as counter:
                fn()
            counts[name] = float(counter.get_total_flops())
    return counts
