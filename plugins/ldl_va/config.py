"""Variant configs of LDL-VA (frozen dataclasses, no torch import).

Defaults follow the paper (blog text) where it decides; where the authors' TensorFlow code differs, the code's
choice is a named option (``methods-aioz-000.md`` §6 lists the differences; ``README.md`` explains each):

========================  =============================================  ==========================================
field                     paper (default)                                code (option)
========================  =============================================  ==========================================
``similarity``            ``"l2"``: exp(-||a_i - a_k||^2 / delta^2)      ``"l1"``: exp(-(|dv| + |da|) / 0.5)
``repulsion``             ``"sqrt"``: exp(-||mu_j - mu_k||^2 / sqrt(V))  ``"linear"``: ... / V
``center_update``         ``"loss"``: centres are trained by L_D         ``"code"``: centre-loss SGD (alpha 0.5) +
                                                                         a 0.1-step repulsion update
``calibration_clamp``     ``False``                                      ``True``: g(.) clamped at -1.3
``lambda`` convention     lambda = uncertainty (weight of the            lambda = certainty (weight of the label);
                          neighbours); reported this way                 same model, sigmoid(-x) = 1 - sigmoid(x)
========================  =============================================  ==========================================
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from zoo.errors import ConfigError

#: The class order of the authors' code and csv files (AffectNet's order).
LDL_CLASSES: tuple[str, ...] = ("Neutral", "Happy", "Sad", "Surprise", "Fear", "Disgust", "Anger")

Similarity = Literal["l2", "l1"]
Repulsion = Literal["sqrt", "linear"]
CenterUpdate = Literal["loss", "code"]
LossKind = Literal["ldl", "ce"]


@dataclass(frozen=True)
class LDLVAConfig:
    """Backbone, label-distribution construction, losses and recipe of one LDL-VA variant.

    Backbone: ``backbone`` is a timm model name built with ``pretrained=False`` and ``num_classes=0`` (its pooled
    features are v, V = its ``num_features``); ``backbone_layers`` / ``backbone_channels`` / ``stem_width`` override
    a timm ResNet's depth and widths when non-empty / non-zero (the tiny variant). ``image_size`` is the face side.
    Label distributions: ``k`` neighbours in valence-arousal space; ``similarity`` and ``delta`` (paper's delta,
    which the paper leaves open); calibration MLP ``calibration_hidden`` (the code's 512 -> BN -> ReLU -> 256 -> BN
    -> ReLU -> 1); ``lambda_init`` is the initial uncertainty lambda (0.3775 = 1 - sigmoid(0.5), the code's
    initial certainty), learned per sample by plain SGD at ``lambda_lr``; ``lambda_grad_from_center``: let L_D's
    (1 - lambda) weight back-propagate into lambda (the code stops it; the paper does not say); ``neighbour_grad``:
    back-propagate through the neighbours' predictions and features (the code does not).
    Losses: ``loss="ldl"`` (the method) or ``"ce"`` (the plain cross-entropy baseline on the given labels);
    ``gamma`` weighs L_D. Noise: ``label_noise`` flips that fraction of the *training* labels to another class
    (seeded by ``noise_seed``), the paper's synthetic-noise protocol. ``va_source`` (synthetic data only):
    ``independent`` = pseudo-VA predicted from the face pixels by a regressor fitted on a separate annotated set
    (:mod:`zoo.data.synthetic.pseudo_va`; like the paper's pseudo-VA from another dataset's model), ``clean`` =
    VA drawn around the CLEAN class (which hands the method the true label; kept for comparison).
    Recipe: Adam, ``lr`` x0.1 at ``lr_milestones_epochs``; ``pad``-pixel pad + random crop + horizontal flip.
    """

    num_classes: int = 7
    class_names: tuple[str, ...] = LDL_CLASSES
    backbone: str = "resnet50"
    backbone_layers: tuple[int, ...] = ()
    backbone_channels: tuple[int, ...] = ()
    stem_width: int = 0
    image_size: int = 112
    k: int = 8
    similarity: Similarity = "l2"
    delta: float = 0.5
    calibration_hidden: tuple[int, ...] = (512, 256)
    calibration_clamp: bool = False
    calibration_clamp_min: float = -1.3
    lambda_init: float = 0.3775
    lambda_lr: float = 10.0
    lambda_grad_from_center: bool = False
    neighbour_grad: bool = False
    loss: LossKind = "ldl"
    gamma: float = 0.01
    repulsion: Repulsion = "sqrt"
    center_update: CenterUpdate = "loss"
    center_alpha: float = 0.5
    center_repulsion_lr: float = 0.1
    label_noise: float = 0.0
    noise_seed: int = 0
    va_source: str = "independent"
    train_size: int = 12271
    test_size: int = 3068
    epochs: int = 60
    steps: int | None = None
    batch_size: int = 32
    lr: float = 1e-4
    weight_decay: float = 0.0
    lr_milestones_epochs: tuple[int, ...] = (10, 30)
    lr_decay: float = 0.1
    pad: int = 4
    augment: bool = True

    def __post_init__(self) -> None:
        if len(self.class_names) != self.num_classes:
            raise ConfigError(f"LDLVAConfig: {len(self.class_names)} class_names for num_classes={self.num_classes}")
        if self.k < 1:
            raise ConfigError(f"LDLVAConfig.k (neighbours) must be >= 1, got {self.k}")
        if self.similarity not in ("l2", "l1") or self.repulsion not in ("sqrt", "linear"):
            raise ConfigError(f"LDLVAConfig: similarity must be 'l2' or 'l1' and repulsion 'sqrt' or 'linear'; got "
                              f"{self.similarity!r}, {self.repulsion!r}")
        if self.center_update not in ("loss", "code") or self.loss not in ("ldl", "ce"):
            raise ConfigError(f"LDLVAConfig: center_update must be 'loss' or 'code' and loss 'ldl' or 'ce'; got "
                              f"{self.center_update!r}, {self.loss!r}")
        if not 0.0 < self.lambda_init < 1.0:
            raise ConfigError(f"LDLVAConfig.lambda_init must be in (0, 1), got {self.lambda_init}")
        if not 0.0 <= self.label_noise < 1.0:
            raise ConfigError(f"LDLVAConfig.label_noise must be in [0, 1), got {self.label_noise}")
        if self.va_source not in ("independent", "clean"):
            raise ConfigError(f"LDLVAConfig.va_source must be 'independent' or 'clean', got {self.va_source!r}")
        if self.delta <= 0:
            raise ConfigError(f"LDLVAConfig.delta must be > 0, got {self.delta}")


def paper() -> LDLVAConfig:
    """ResNet-50 at 112x112 (the code's RAF-DB setting), K = 8, batch 32, Adam 1e-4, 60 epochs."""
    return LDLVAConfig()


def paper_resnet18() -> LDLVAConfig:
    """The code's other RAF-DB setting: ResNet-18 at 224x224, pad 8, Adam 1e-3, decays at epochs 10, 20, 40."""
    return LDLVAConfig(backbone="resnet18", image_size=224, pad=8, lr=1e-3, lr_milestones_epochs=(10, 20, 40))


def tiny() -> LDLVAConfig:
    """CPU-sized: a one-block-per-stage timm ResNet (16-64 channels) on 32x32 synthetic faces, K = 4."""
    return LDLVAConfig(backbone="resnet18", backbone_layers=(1, 1, 1, 1), backbone_channels=(16, 32, 64, 64),
                       stem_width=16, image_size=32, k=4, calibration_hidden=(32, 16), train_size=448,
                       test_size=280, epochs=0, steps=150, batch_size=32, lr=3e-3, lr_milestones_epochs=(),
                       pad=2, lambda_lr=10.0)
