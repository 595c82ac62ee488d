"""GLSCL variant configs (no torch import)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GLSCLConfig:
    """Embedding sizes, the two interaction modules and the losses.

    ``temperature``: the global interaction's softmax temperature over frames. ``queries`` learnable queries
    run through ``layers`` decoder layers (``heads`` heads) against the frames (visual concepts) and, with the
    same queries and the same decoder, against the words (textual concepts). ``local_weight`` adds the local
    score to the global one; ``alpha``/``beta`` weigh IDL/ICL; ``consistency_target`` is the similarity ICL asks
    of matching visual/textual concepts.
    """

    dim: int = 64
    frames: int = 12
    words: int = 16
    queries: int = 4
    layers: int = 1
    heads: int = 4
    ffn: int = 128
    temperature: float = 1.0
    local_weight: float = 0.5
    alpha: float = 0.1
    beta: float = 0.05
    ranking_margin: float = 0.1
    consistency_target: float = 0.75
    local_at_inference: bool = True
    idl_text: bool = True
    icl_normalisation: str = "batch"  # "queries": the public code's (see losses.py)
    # recipe and synthetic data
    steps: int = 200
    batch_size: int = 64
    lr: float = 1e-3
    train_size: int = 1024
    test_size: int = 256


def tiny() -> GLSCLConfig:
    """64-d embeddings, 12 frames, 16 words, 4 queries, one decoder layer."""
    return GLSCLConfig()


def paper() -> GLSCLConfig:
    """The public MSR-VTT recipe: CLIP ViT-B/32 (512-d), 12 frames, 32 words, 8 queries shared by both
    modalities, 3 decoder layers with 8 heads (feed-forward 2048) shared by both, global temperature 3,
    local weight 0.5, alpha 1e-4, beta 0.005, lr 1e-4, batch 128, 5 epochs."""
    return GLSCLConfig(dim=512, frames=12, words=32, queries=8, layers=3, heads=8, ffn=2048, temperature=3.0,
                       alpha=1e-4, beta=0.005, lr=1e-4, batch_size=128, steps=5 * 70)
