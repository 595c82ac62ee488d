"""Variant configs of the local-learning plugin (AugLocal, MAN and the DGL/InfoPro baseline).

Defaults follow the authors' public code (ChenxiangMA/AugLocal, JunhaoSu0/MAN, both built on InfoPro); see
``README.md`` for the sources of every number.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LocalLearningConfig:
    """Network, split plan, auxiliary networks and training recipe.

    ``num_modules`` is K, the number of gradient-isolated modules requested; ``num_modules == 1`` is end-to-end
    backprop. ``aux`` picks the auxiliary objective for the ``dgl`` method (``dgl``: conv + 2-FC classifier,
    ``infopro``: reconstruction decoder + classifier); AugLocal and MAN define their own.
    """

    # data and network (CIFAR-style ResNet: stem + 3 stages of BasicBlocks)
    dataset: str = "digits"
    in_channels: int = 1
    image_size: int = 8
    num_classes: int = 10
    widths: tuple[int, int, int] = (16, 32, 64)
    blocks_per_stage: int = 2
    num_modules: int = 7
    # auxiliary networks
    aux: str = "dgl"
    aux_feature_dim: int = 128
    aux_depth: int = 2  # AugLocal d
    pyramid_coeff: float = 0.5  # AugLocal c
    ema_momentum: float = 0.995  # MAN m
    ema_update: str = "after_local_backward"  # MAN: reference code's update point; "after_step": after optimizer.step
    ixx_1: float = 5.0  # InfoPro reconstruction weight at the first module
    ixx_2: float = 0.0  # ... at the last module (linear in depth)
    ixy_1: float = 0.5  # InfoPro/MAN auxiliary CE weight at the first module
    ixy_2: float = 0.0
    loss_weights_by: str = ""  # "module" (InfoPro) or "stage" (MAN's code); "" = the method's reference choice
    recon_loss: str = "bce"  # InfoPro/MAN reconstruction: sigmoid decoder + BCE (reference code); "mse"
    # recipe (SGD + Nesterov, cosine with linear warm-up)
    steps: int = 300
    batch_size: int = 64
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 1e-4
    warmup_steps: int = 20
    schedule: str = "cosine"
    grad_clip: float | None = None
    amp: bool = False
    mode: str = "local"  # engine mode: "local" (a), "per_module" (b), "end_to_end" (e)


def _tiny(aux: str = "dgl", **kw: object) -> LocalLearningConfig:
    return LocalLearningConfig(aux=aux, **kw)  # type: ignore[arg-type]


def auglocal_tiny() -> LocalLearningConfig:
    """Digits 8x8, ResNet-14 (7 layers) split layer-wise (K=7, so K-d=5 modules), AugLocal d=2."""
    return _tiny(aux_depth=2)


def man_tiny() -> LocalLearningConfig:
    """Digits 8x8, ResNet-14 split layer-wise (K=7), MAN m=0.995."""
    return _tiny()


def dgl_tiny() -> LocalLearningConfig:
    """Digits 8x8, ResNet-14 split layer-wise (K=7) with DGL heads."""
    return _tiny(aux="dgl")


def infopro_tiny() -> LocalLearningConfig:
    """Digits 8x8, ResNet-14 split layer-wise (K=7) with InfoPro decoder + classifier heads."""
    return _tiny(aux="infopro", ixx_1=5.0, ixx_2=0.2, ixy_1=0.05, ixy_2=0.5)


def bp_tiny() -> LocalLearningConfig:
    """Digits 8x8, ResNet-14 trained end to end (K = 1): the BP baseline on the same code path."""
    return _tiny(num_modules=1)


def _cifar(**kw: object) -> LocalLearningConfig:
    """CIFAR-10 ResNet-32, K=16 (every layer), the reference recipe: SGD-Nesterov, LR 0.8 at batch 1024,
    400 epochs (50,000 images / 1024 = 49 steps per epoch), cosine with a 10-epoch warm-up."""
    base = dict(dataset="cifar10", in_channels=3, image_size=32, num_classes=10, blocks_per_stage=5,
                num_modules=16, steps=400 * 49, batch_size=1024, lr=0.8, weight_decay=1e-4, warmup_steps=10 * 49)
    base.update(kw)
    return LocalLearningConfig(**base)  # type: ignore[arg-type]


def auglocal_paper() -> LocalLearningConfig:
    """ResNet-32, K=16, d=2 (README setting)."""
    return _cifar(aux_depth=2)


def auglocal_resnet110() -> LocalLearningConfig:
    """ResNet-110, K=55, d=3 (README setting)."""
    return _cifar(blocks_per_stage=18, num_modules=55, aux_depth=3)


def man_paper() -> LocalLearningConfig:
    """ResNet-32, K=16, m=0.995, ixx 5 -> 0, ixy 0.5 -> 0, aux feature dim 128 (README setting)."""
    return _cifar(ema_momentum=0.995, ixx_1=5.0, ixx_2=0.0, ixy_1=0.5, ixy_2=0.0)


def dgl_paper() -> LocalLearningConfig:
    """ResNet-32, K=16 with DGL heads."""
    return _cifar(aux="dgl")


def infopro_paper() -> LocalLearningConfig:
    """ResNet-32, K=16 with InfoPro heads: ixx 5 -> 0.2, ixy 0.05 -> 0.5."""
    return _cifar(aux="infopro", ixx_1=5.0, ixx_2=0.2, ixy_1=0.05, ixy_2=0.5)


def bp_paper() -> LocalLearningConfig:
    """ResNet-32 trained end to end (K = 1) with the same recipe."""
    return _cifar(num_modules=1)
