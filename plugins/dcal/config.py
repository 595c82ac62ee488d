"""DCAL variant configs (no torch import)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DCALConfig:
    """The ViT (a timm model name plus overrides), the DCAL blocks and the task's recipe.

    ``task``: ``fgvc`` (class probabilities of SA and GLCA added) or ``reid`` (their class tokens
    concatenated as the descriptor; CE + batch-hard triplet per branch). ``local_ratio``: R, the share of patch
    tokens selected by attention rollout as GLCA queries. ``pwca``: train with the pair-wise branch.
    """

    task: str = "fgvc"
    vit: str = "vit_tiny_patch16_224"
    image_size: tuple[int, int] = (32, 32)
    patch_size: int = 4
    embed_dim: int = 64
    depth: int = 4
    num_heads: int = 2
    pretrained: bool = False
    num_classes: int = 10
    local_ratio: float = 0.1
    glca: bool = True
    pwca: bool = True
    drop_path: float = 0.0
    triplet_margin: float = 0.3
    # recipe
    steps: int = 150
    batch_size: int = 32
    instances: int = 4  # re-ID: images per identity in a batch
    optimizer: str = "adamw"
    lr: float = 5e-4 * 32 / 512
    weight_decay: float = 0.05
    # synthetic data
    train_per_class: int = 24
    test_per_class: int = 8


def tiny() -> DCALConfig:
    """A 4-block, 64-d, 2-head ViT on 32 px images (8 x 8 patches of 4 px), 10 synthetic classes."""
    return DCALConfig()


def tiny_reid() -> DCALConfig:
    """The re-ID variant at tiny size: 32 x 16 pedestrians (8 x 4 patches), R = 30 %, SGD 0.008."""
    return DCALConfig(task="reid", image_size=(32, 16), num_classes=16, local_ratio=0.3, optimizer="sgd",
                      lr=0.008, weight_decay=1e-4, batch_size=32)


def paper() -> DCALConfig:
    """FGVC as the paper: DeiT-Tiny (192-d, 12 blocks, 3 heads, patch 16) at 448 px, R = 10 %, CUB's 200
    classes, Adam(W) with weight decay 0.05, lr 5e-4 / 512 x batch 16, 100 epochs, stochastic depth."""
    return DCALConfig(vit="deit_tiny_patch16_224", image_size=(448, 448), patch_size=16, embed_dim=192, depth=12,
                      num_heads=3, pretrained=True, num_classes=200, drop_path=0.1, steps=100 * 375,
                      batch_size=16, lr=5e-4 / 512 * 16)


def paper_reid() -> DCALConfig:
    """Re-ID as the paper: DeiT-Tiny at 256 x 128, R = 30 %, SGD momentum 0.9, weight decay 1e-4, lr 0.008,
    batch 64 with 4 images per identity, 120 epochs, CE + triplet (MSMT17's 1,041 training identities)."""
    return DCALConfig(task="reid", vit="deit_tiny_patch16_224", image_size=(256, 128), patch_size=16,
                      embed_dim=192, depth=12, num_heads=3, pretrained=True, num_classes=1041, local_ratio=0.3,
                      drop_path=0.1, steps=120 * 500, batch_size=64, optimizer="sgd", lr=0.008, weight_decay=1e-4)
