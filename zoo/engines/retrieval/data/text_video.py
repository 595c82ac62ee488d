"""Frozen CLIP-like embeddings for text-video retrieval, built from shared latent concepts.

There are ``concepts`` unit vectors in R^d. Video ``i`` shows ``per_item`` of them: each of its ``frames``
frame embeddings mixes one or two of its concepts with a shared "scene style" direction and noise, so no
single frame carries all of them. Caption ``i`` has one word token per concept (the concept vector plus noise),
filler tokens drawn from a few shared "stop-word" vectors, and a sentence ([CLS]) embedding that is the mean of
its concept vectors plus stronger noise (a coarse global summary). Captions and videos of the same index
match. Consecutive items share concepts with some probability, which makes hard negatives.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from zoo.errors import ConfigError


@dataclass
class TextVideo:
    """Matching captions and videos: token/frame embeddings with masks, and the sentence embeddings."""

    text_tokens: torch.Tensor  # (N, L, d)
    text_mask: torch.Tensor  # (N, L) 1 = real token
    text_cls: torch.Tensor  # (N, d)
    video_frames: torch.Tensor  # (N, T, d)
    video_mask: torch.Tensor  # (N, T)
    concepts: torch.Tensor  # (N, per_item) concept ids

    def __len__(self) -> int:
        return len(self.text_cls)

    def tensors(self) -> dict[str, torch.Tensor]:
        """All items at once: the model inputs (token/frame embeddings, masks, sentence embeddings)."""
        return {"text_tokens": self.text_tokens, "text_mask": self.text_mask, "text_cls": self.text_cls,
                "video_frames": self.video_frames, "video_mask": self.video_mask}

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"text_tokens": self.text_tokens[i], "text_mask": self.text_mask[i], "text_cls": self.text_cls[i],
                "video_frames": self.video_frames[i], "video_mask": self.video_mask[i], "index": torch.tensor(i)}


def make_text_video(n: int = 128, dim: int = 64, concepts: int = 24, per_item: int = 3, frames: int = 12,
                    words: int = 16, noise: float = 0.3, cls_noise: float = 0.3, share: float = 0.5,
                    seed: int = 0, concept_seed: int = 0) -> TextVideo:
    """``n`` caption/video pairs (module docstring). ``concept_seed`` fixes the concept vectors, so train and
    test sets drawn with different ``seed`` share the concept space."""
    if n < 1 or per_item < 1 or per_item > concepts or frames < 1 or words < per_item:
        raise ConfigError(f"make_text_video needs n >= 1, 1 <= per_item <= concepts and words >= per_item; got "
                          f"n={n}, per_item={per_item}, concepts={concepts}, words={words}")
    space = torch.Generator().manual_seed(concept_seed)
    basis = F.normalize(torch.randn(concepts, dim, generator=space), dim=1)
    stop = F.normalize(torch.randn(4, dim, generator=space), dim=1)
    style = F.normalize(torch.randn(dim, generator=space), dim=0)
    g = torch.Generator().manual_seed(seed)
    ids = []
    for i in range(n):
        fresh = torch.randperm(concepts, generator=g)[:per_item]
        if ids and float(torch.rand((), generator=g)) < share:  # keep some of the previous item's concepts
            keep = ids[-1][: per_item - 1]
            fresh = torch.cat([keep, fresh[~torch.isin(fresh, keep)]])[:per_item]
        ids.append(fresh)
    concept_ids = torch.stack(ids)
    chosen = basis[concept_ids]  # (n, c, d)
    pick = torch.randint(per_item, (n, frames, 2), generator=g)
    mix = torch.zeros(n, frames, per_item).scatter_(2, pick, 1.0)
    video = mix @ chosen + 0.5 * style + noise * torch.randn(n, frames, dim, generator=g) / dim ** 0.5 * 4
    tokens = stop[torch.randint(len(stop), (n, words), generator=g)].clone()
    slots = torch.argsort(torch.rand(n, words, generator=g), dim=1)[:, :per_item]
    tokens.scatter_(1, slots[..., None].expand(-1, -1, dim),
                    chosen + noise * torch.randn(n, per_item, dim, generator=g) / dim ** 0.5 * 4)
    cls = chosen.mean(1) + cls_noise * torch.randn(n, dim, generator=g) / dim ** 0.5 * 4
    lengths = torch.randint(per_item + 2, words + 1, (n,), generator=g)
    mask = (torch.arange(words)[None] < lengths[:, None]).float()
    inside = slots < lengths[:, None]  # move concept words that fell past the caption's end inside it
    for i in range(n):
        if not bool(inside[i].all()):
            tokens[i, :per_item] = chosen[i]
    return TextVideo(F.normalize(tokens, dim=-1), mask, F.normalize(cls, dim=-1), F.normalize(video, dim=-1),
                     torch.ones(n, frames), concept_ids)
