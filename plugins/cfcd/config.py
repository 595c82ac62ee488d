"""CFCD variant configs (no torch import)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CFCDConfig:
    """Backbone, global head (GeM -> FC -> BN -> MadaCos), local descriptors and the two training stages.

    ``local_stage``: which tapped map gives the local descriptors (``1`` = the last, res5, as the public code;
    ``0`` = res4, used at tiny size so that a 64 px image has 16 local descriptors instead of 4).
    """

    backbone: str = "test_resnet"
    stages: tuple[int, int] = (3, 4)
    local_stage: int = 0
    pretrained: bool = False
    image_size: int = 64
    dim: int = 32
    gem_p: float = 3.0
    num_classes: int = 20
    alpha: float = 0.02  # MadaCos target probability
    min_scale: float = 32.0
    # stage 2 (fine)
    tuple_size: int = 8  # anchor, positive, 6 negatives
    triplet_margin: float = 0.1
    triplet_weight: float = 0.05
    lowe_ratio: float = 0.9
    attention_keep: float = 0.5  # positives' local descriptors kept: the top half by attention
    rerank_weight: float = 1.0  # weight of the local matching score when re-ranking (an option, not the paper)
    # recipe (paper: SGD Nesterov, momentum 0.9, wd 1e-4, cosine; stage 1 lr 0.005, 50 epochs, 5 warm-up, batch
    # 128, 512 px; stage 2 lr 0.005, 50 epochs, no warm-up, tuples of 8)
    stage1_steps: int = 150
    stage2_steps: int = 60
    batch_size: int = 32
    tuples_per_batch: int = 4
    lr: float = 0.01
    weight_decay: float = 1e-4
    warmup_steps: int = 10
    train_classes: int = 20
    per_class: int = 12
    test_classes: int = 10


def tiny() -> CFCDConfig:
    """CPU-sized: test_resnet at 64 px, local descriptors from its res4 map (16 per image), 32-d descriptor."""
    return CFCDConfig()


def paper() -> CFCDConfig:
    """The paper's configuration (public configs): ResNet-101, GeM (p = 3), FC 2048 -> 512, BN, MadaCos
    (alpha = 0.02) over GLDv2-clean's 81,313 classes; local descriptors from res5; tuples of 8; triplet margin
    0.1, weight 0.05; 512 px images; lr 0.005; batch 128 (stage 1)."""
    return CFCDConfig(backbone="resnet101", local_stage=1, pretrained=True, image_size=512, dim=512,
                      num_classes=81313, stage1_steps=50 * 12_400, stage2_steps=50 * 12_400, batch_size=128,
                      tuples_per_batch=16, lr=0.005, warmup_steps=5 * 12_400)
