"""Variant configs of GLAMOR-Net (frozen dataclasses, no torch import).

The paper (blog) fixes the architecture (two 5-layer conv encoders, 32 filters doubling except the last, a
256-channel map; the GLA feed-forward scorer; the adaptive fusion). It gives no training recipe: the recipe and the
layer details it leaves open (GLA hidden width 128 with BN, fusion scorers, the 128-unit classifier with dropout 0.5,
SGD lr 5e-4 momentum 0.9, x0.1 at epochs 25 and 40, 60 epochs, batch 4, 96x96 faces, 112x112 contexts) come from
the authors' TensorFlow code (``methods-aioz-000.md`` §5). ``README.md`` lists each choice.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from zoo.errors import ConfigError

#: CAER-S class folders, in the order of the authors' code (label index = position).
CAER_CLASSES: tuple[str, ...] = ("Anger", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise")

Attention = Literal["gla", "ca", "none"]
FusionInputs = Literal["face+context", "face", "context"]
ContextFace = Literal["masked", "visible"]
Encoder = Literal["conv5", "resnet18"]


@dataclass(frozen=True)
class GlamorConfig:
    """Architecture, data and recipe of one GLAMOR-Net variant.

    Architecture:
        face_size, context_size: input sides (face crop; whole image with the face masked).
        encoder: ``conv5`` = the paper's 5-layer conv encoders (below); ``resnet18`` = a ResNet-18 trunk (timm,
            ``pretrained`` from ImageNet where available) for each branch, the backbone of the paper's 89.88 %
            CAER-S result (not in the public code).
        face_channels, context_channels: filters of the 5 conv3x3-BN-ReLU layers of each encoder; a 2x2 max-pool
            follows every layer except the last (``pool_layers`` of them).
        attention: ``gla`` = Global-Local Attention (score each context cell from [v_f; v_ij], the paper);
            ``ca`` = a CAER-Net-style context-only attention (score from v_ij alone, the paper's ablation);
            ``none`` = plain average pooling of the context map (the paper's "no attention" ablation).
        gla_hidden: width of the GLA scorer Dense -> BN -> ReLU -> Dense(1).
        fusion_inputs: which vectors reach the fusion network (``face+context`` = the full model; ``context`` =
            the context-only ablation settings (ii) and (iii), where the face still guides the GLA but is not
            fused; ``face`` = setting (i)).
        context_face: ``masked`` = the context input has the face box set to zero (the paper's input; settings
            ii and iv); ``visible`` = the whole image, face included (the paper's ablation setting iii).
        fusion_hidden: width of each fusion scorer Dense -> ReLU -> Dense(1).
        classifier_hidden, dropout: the final Dense -> ReLU -> Dropout -> Dense(num_classes).
    Data and recipe:
        train_size, test_size: synthetic samples per split (``zoo.data.synthetic.faces_in_context``).
        epochs, steps: length (``steps`` wins when set). batch_size, lr, momentum, weight_decay.
        lr_milestones_epochs, lr_decay: the step schedule. augment: random horizontal flip of face and context and
            a random face rotation of up to ``face_rotation`` degrees (the code's face augmentation).
        context_resize: on-disk data: resize the masked image to this (H, W) and crop ``context_size`` (random at
            train, centre at test), as the code does (128x171 then 112x112); ``(0, 0)`` = resize straight.
    """

    num_classes: int = 7
    class_names: tuple[str, ...] = CAER_CLASSES
    encoder: Encoder = "conv5"
    pretrained: bool = False
    face_size: int = 96
    context_size: int = 112
    face_channels: tuple[int, ...] = (32, 64, 128, 256, 256)
    context_channels: tuple[int, ...] = (32, 64, 128, 256, 256)
    pool_layers: int = 4
    attention: Attention = "gla"
    gla_hidden: int = 128
    fusion_inputs: FusionInputs = "face+context"
    context_face: ContextFace = "masked"
    fusion_hidden: int = 128
    classifier_hidden: int = 128
    dropout: float = 0.5
    train_size: int = 2000
    test_size: int = 500
    epochs: int = 60
    steps: int | None = None
    batch_size: int = 4
    lr: float = 5e-4
    momentum: float = 0.9
    weight_decay: float = 0.0
    lr_milestones_epochs: tuple[int, ...] = (25, 40)
    lr_decay: float = 0.1
    augment: bool = True
    face_rotation: float = 20.0
    context_resize: tuple[int, int] = (128, 171)

    def __post_init__(self) -> None:
        if len(self.class_names) != self.num_classes:
            raise ConfigError(f"GlamorConfig: {len(self.class_names)} class_names for num_classes={self.num_classes}")
        for name, chans in (("face_channels", self.face_channels), ("context_channels", self.context_channels)):
            if not chans or any(c < 1 for c in chans):
                raise ConfigError(f"GlamorConfig.{name} must be positive filter counts, got {chans}")
            if not 0 <= self.pool_layers <= len(chans):
                raise ConfigError(f"GlamorConfig.pool_layers must be in 0..{len(chans)}, got {self.pool_layers}")
        for name, size in (("face_size", self.face_size), ("context_size", self.context_size)):
            if size < 2 ** self.pool_layers:
                raise ConfigError(f"GlamorConfig.{name}={size} is smaller than the 2^{self.pool_layers} pooling "
                                  "stride; the feature map would be empty")
        if self.attention not in ("gla", "ca", "none"):
            raise ConfigError(f"GlamorConfig.attention must be 'gla', 'ca' or 'none', got {self.attention!r}")
        if self.fusion_inputs not in ("face+context", "face", "context"):
            raise ConfigError("GlamorConfig.fusion_inputs must be 'face+context', 'face' or 'context', got "
                              f"{self.fusion_inputs!r}")
        if self.context_face not in ("masked", "visible"):
            raise ConfigError(f"GlamorConfig.context_face must be 'masked' or 'visible', got {self.context_face!r}")
        if self.encoder not in ("conv5", "resnet18"):
            raise ConfigError(f"GlamorConfig.encoder must be 'conv5' or 'resnet18', got {self.encoder!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"GlamorConfig.dropout must be in [0, 1), got {self.dropout}")


def paper() -> GlamorConfig:
    """The published network: 96x96 faces, 112x112 contexts, 256-channel maps (6x6 face, 7x7 context), 60 epochs."""
    return GlamorConfig()


def paper_resnet18() -> GlamorConfig:
    """The paper's ResNet-18 GLAMOR-Net (89.88 % on CAER-S): a ResNet-18 trunk per branch (512-channel maps).

    The paper gives no input sizes for it; chosen here: 112x112 faces (a 4x4 map) and 224x224 contexts (7x7, as
    the conv encoder's 7x7 at 112), ImageNet's scale for ResNet-18; the rest is the paper variant's."""
    return GlamorConfig(encoder="resnet18", face_size=112, context_size=224, context_resize=(256, 342))


def tiny() -> GlamorConfig:
    """CPU-sized: [8, 16, 32, 32, 32] filters, 32x32 faces, 48x48 contexts (a 3x3 context map), SGD at lr 0.02."""
    return GlamorConfig(face_size=32, context_size=48, face_channels=(8, 16, 32, 32, 32),
                        context_channels=(8, 16, 32, 32, 32), gla_hidden=32, fusion_hidden=32, classifier_hidden=32,
                        dropout=0.1, train_size=600, test_size=210, epochs=0, steps=250, batch_size=16, lr=0.02,
                        lr_milestones_epochs=(), augment=True, face_rotation=0.0, context_resize=(0, 0))
