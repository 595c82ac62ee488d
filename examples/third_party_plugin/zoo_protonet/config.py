"""Variant configs of the example plugin: frozen dataclasses with JSON-able fields (saved in ``config.json``)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProtoNetConfig:
    """The embedding's size, the episodes it is trained on, and the optimiser.

    ``blocks`` conv blocks of ``channels`` (conv 3x3, batch norm, ReLU, 2x2 max-pool) embed an image; the
    embedding is the flattened output (``channels * (image_size // 2**blocks) ** 2`` numbers). Training draws
    ``way``-class episodes of ``shot`` support and ``queries`` query images per class from ``train_classes``
    (empty: every class of the data). ``num_classes`` prototypes are stored for inference.
    """

    image_size: int = 8
    blocks: int = 2
    channels: int = 16
    num_classes: int = 10
    train_classes: tuple[int, ...] = ()
    way: int = 5
    shot: int = 5
    queries: int = 5
    steps: int = 150
    lr: float = 1e-3
    lr_halve_every: int = 2000

    @property
    def embed_dim(self) -> int:
        """Length of the embedding (flattened output of the conv blocks)."""
        side = self.image_size // 2**self.blocks
        return self.channels * side * side


def tiny() -> ProtoNetConfig:
    """CPU-sized: scikit-learn's 8x8 digits, 2 blocks of 16 channels (64-d embedding), 5-way 5-shot episodes."""
    return ProtoNetConfig()


def paper() -> ProtoNetConfig:
    """The paper's Omniglot setting: 4 blocks of 64 channels on 28x28 images (64-d embedding), 60-way 5-shot
    training episodes with 5 queries per class, Adam at 1e-3 halved every 2000 episodes."""
    return ProtoNetConfig(image_size=28, blocks=4, channels=64, num_classes=5, way=60, shot=5, queries=5,
                          steps=20_000, lr=1e-3, lr_halve_every=2000)
