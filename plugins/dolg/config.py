"""DOLG variant configs (no torch import)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DOLGConfig:
    """Backbone taps, local/global branches, fusion, head and recipe.

    ``stages`` are the timm ``features_only`` indices of f3 (res4) and f4 (res5). ``multi_atrous`` puts the
    multi-atrous block (1x1 + three dilated 3x3 convs of ``aspp_dim`` channels + image pooling, to
    ``local_dim``) before the self-attention module. ``local_branch=False`` is the GeM-only baseline.
    """

    backbone: str = "test_resnet"
    stages: tuple[int, int] = (3, 4)
    pretrained: bool = False
    image_size: int = 64
    multi_atrous: bool = True
    aspp_dim: int = 32
    dilations: tuple[int, ...] = (1, 2, 3)
    local_dim: int = 64
    dim: int = 32
    gem_p: float = 3.0
    local_branch: bool = True
    num_classes: int = 20
    arcface_scale: float = 30.0
    arcface_margin: float = 0.15
    curricular: bool = False
    # recipe (paper: SGD, Nesterov, momentum 0.9, lr 0.01, wd 1e-4, cosine, 5 warm-up of 100 epochs, batch 64)
    steps: int = 200
    batch_size: int = 32
    lr: float = 0.01
    weight_decay: float = 1e-4
    warmup_steps: int = 10
    nesterov: bool = True
    # synthetic landmarks
    train_classes: int = 20
    per_class: int = 12
    test_classes: int = 10


def tiny() -> DOLGConfig:
    """CPU-sized: timm's test_resnet at 64 px, dilations (1, 2, 3) on its 4x4 res4 map, 32-d descriptor."""
    return DOLGConfig()


def paper() -> DOLGConfig:
    """The paper's configuration: ResNet-101, f3 = res4 (1024-d), f4 = res5 (2048-d), multi-atrous block with
    dilations 6/12/18 (512 channels each), 1024-d local and global features, a 512-d descriptor, ArcFace
    (s = 30, m = 0.15) over GLDv2-clean's 81,313 classes, 224 px training images, SGD (Nesterov) lr 0.01."""
    return DOLGConfig(backbone="resnet101", pretrained=True, image_size=224, aspp_dim=512, dilations=(6, 12, 18),
                      local_dim=1024, dim=512, num_classes=81313, steps=100 * 24_000, batch_size=64,
                      warmup_steps=5 * 24_000)


def code() -> DOLGConfig:
    """The public code's defaults on the paper's sizes: the multi-atrous block off (``WITH_MA = False``) and
    ArcFace with CurricularFace-style hard-example modulation."""
    from dataclasses import replace

    return replace(paper(), multi_atrous=False, curricular=True)


def gem() -> DOLGConfig:
    """The GeM-only baseline at tiny size: FC(GeM(f4)) with ArcFace, no local branch and no fusion."""
    from dataclasses import replace

    return replace(tiny(), local_branch=False)
