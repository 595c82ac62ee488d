"""Variant configs of SAC (Self-Assessment Classifier): frozen dataclasses, no torch import.

Every field that the blog (paper text) leaves open, or where the public TensorFlow code differs from the text, is a
named option whose default follows the paper where the paper decides, and the lead spec's recommendation
(``methods-aioz-001.md`` §3) where it does not. ``README.md`` lists each choice.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from zoo.errors import ConfigError

#: The ten class names of scikit-learn's digits (the bundled real data set).
DIGIT_NAMES: tuple[str, ...] = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

AttentionNorm = Literal["positions", "couples"]
SecondHead = Literal["joint", "residual"]
SecondScope = Literal["all", "topk"]
DropMode = Literal["low", "high", "wsdan", "none"]


@dataclass(frozen=True)
class SACConfig:
    """Architecture, data and training recipe of one SAC variant.

    Architecture (paper symbols in brackets):
        backbone: a timm model name; ``zoo_sac_cnn`` is the small CNN this plugin registers with timm.
        num_classes [N], class_names: the dataset's classes; names are tokenised into words for the class
            embedding. Empty ``class_names`` means placeholder names ``class_1 .. class_N``: then every class
            name is "class" + a unique number, so the word-embedding + GRU branch degenerates into a learned
            class-id embedding and SAC loses what its class names bring. Building so warns
            (:class:`~zoo_plugins.sac.model.PlaceholderNamesWarning`) and training refuses unless
            ``allow_placeholder_names`` (give the dataset's names with
            ``zoo.build("sac-paper", class_names=ds.class_names)``).
        top_k [k]: number of coarse candidates re-assessed (paper 10; public code 5).
        max_words: class names are trimmed / zero-padded to this many words (paper 4; code 3).
        word_dim: word-embedding size (paper 300). word_vectors: optional GloVe-format text file; words it lacks,
            or all words when ``None``, get a deterministic hash-seeded initialisation (see ``model.py``).
        class_dim [d_e]: GRU state size (paper 1024).
        joint_dim [h = d_j]: rank of the low-rank bilinear attention and size of J (code 1024).
        shared_projections: False = separate factors for T_M (attention) and T_u (joint) as in the paper text;
            True = one pair of projections for both, as in the public code.
        attention_norm: ``positions`` = softmax over the f positions for each class (public code; lets the fused
            SDPA kernel compute J); ``couples`` = one softmax over all f*k couples (the text's "weighted sum over
            all couples"; explicit einsum path).
        second_head: ``joint`` = 2nd classifier is a linear layer on J (paper text); ``residual`` = FC(h->d_f)
            added to every feature-map position, pooled, dropout, 1x1 conv (public code).
        second_scope: ``all`` = Pr2 is a softmax over all N classes (public code); ``topk`` = Pr2 is renormalised
            over the k candidates only (one reading of "2nd top-k predictions C'_k"); affects inference fusion.
        alpha [alpha]: weight of the 1st classifier in the fused probability (paper 0.5).
        drop_feature / drop_class / drop_joint: dropout rates (code keep 0.5 / 0.8 / 0.8).
    Loss (the blog states none):
        second_weight [lambda]: L = CE(logits1) + lambda * CE(logits2) (spec recommendation 1.0; code 0.01).
    Dropping module:
        drop_mode: ``low`` erases pixels whose upsampled attention is below ``d_phi * max`` (the text: "erase
            unnecessary regions"); ``high`` erases above ``(1 - d_phi) * max``; ``wsdan`` erases above
            ``U(0.2, 0.5) * max`` (public code via WS-DAN); ``none`` disables dropping.
        d_phi: the dropping threshold (paper 0.1).
    Recipe:
        optimizer, lr, momentum, weight_decay, batch_size; epochs (paper 80) or steps (overrides epochs when
        set); lr_decay and decay_every_epochs give the paper's exponential step decay (0.9 every 2 epochs);
        schedule ``step`` (paper) or ``cosine`` (public code), grad_clip.
    Data:
        image_size, in_chans, mean/std normalisation; files are resized to ``image_size * resize_ratio`` and then
        cropped to ``image_size`` (random crop + flip for training, centre crop for testing).
    """

    backbone: str = "zoo_sac_cnn"
    pretrained: bool = False
    backbone_width: int = 16
    in_chans: int = 1
    image_size: int = 8
    resize_ratio: float = 1.0
    mean: tuple[float, ...] = (0.0,)
    std: tuple[float, ...] = (1.0,)
    num_classes: int = 10
    class_names: tuple[str, ...] = DIGIT_NAMES
    allow_placeholder_names: bool = False
    top_k: int = 3
    max_words: int = 4
    word_dim: int = 16
    word_vectors: str | None = None
    class_dim: int = 32
    joint_dim: int = 32
    shared_projections: bool = False
    attention_norm: AttentionNorm = "positions"
    second_head: SecondHead = "joint"
    second_scope: SecondScope = "all"
    alpha: float = 0.5
    drop_feature: float = 0.5
    drop_class: float = 0.2
    drop_joint: float = 0.2
    second_weight: float = 1.0
    drop_mode: DropMode = "low"
    d_phi: float = 0.1
    optimizer: str = "adamw"
    lr: float = 3e-3
    momentum: float = 0.9
    weight_decay: float = 1e-4
    batch_size: int = 32
    epochs: int = 0
    steps: int | None = 150
    schedule: str = "cosine"
    lr_decay: float = 0.9
    decay_every_epochs: int = 2
    grad_clip: float | None = None

    def __post_init__(self) -> None:
        if self.num_classes < 2:
            raise ConfigError(f"SACConfig.num_classes must be >= 2, got {self.num_classes}")
        if not 1 <= self.top_k <= self.num_classes:
            raise ConfigError(f"SACConfig.top_k must be in [1, num_classes={self.num_classes}], got {self.top_k}")
        if self.class_names and len(self.class_names) != self.num_classes:
            raise ConfigError(f"SACConfig.class_names has {len(self.class_names)} names but num_classes is "
                              f"{self.num_classes}; give one name per class (or none for placeholders)")
        if not 0.0 <= self.alpha <= 1.0:
            raise ConfigError(f"SACConfig.alpha must be in [0, 1], got {self.alpha}")
        if not 0.0 < self.d_phi < 1.0:
            raise ConfigError(f"SACConfig.d_phi must be in (0, 1), got {self.d_phi}")
        if self.max_words < 1:
            raise ConfigError(f"SACConfig.max_words must be >= 1, got {self.max_words}")
        choices = {
            "attention_norm": ("positions", "couples"),
            "second_head": ("joint", "residual"),
            "second_scope": ("all", "topk"),
            "drop_mode": ("low", "high", "wsdan", "none"),
            "schedule": ("constant", "cosine", "step"),
            "optimizer": ("sgd", "adam", "adamw"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"SACConfig.{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if len(self.mean) != self.in_chans or len(self.std) != self.in_chans:
            raise ConfigError(f"SACConfig.mean/std need {self.in_chans} values (in_chans), got "
                              f"{len(self.mean)}/{len(self.std)}")

    @property
    def names(self) -> tuple[str, ...]:
        """The class names, or placeholders ``class_1 .. class_N`` when none were given."""
        return self.class_names or tuple(f"class_{i + 1}" for i in range(self.num_classes))


def tiny() -> SACConfig:
    """CPU variant on scikit-learn digits (8x8 grey, classes "zero".."nine"): small CNN, k=3, 16/32-d embeddings."""
    return SACConfig()


def paper() -> SACConfig:
    """The paper's setting: ResNet-50 at 448x448, k=10, 300-d words, d_e=h=1024, alpha=0.5, d_phi=0.1; SGD
    (momentum 0.9, weight decay 1e-5, batch 12, lr 1e-3 decayed by 0.9 every 2 epochs, 80 epochs).

    ``num_classes`` defaults to CUB-200-2011 (200); use 120 for Stanford Dogs and 100 for FGVC-Aircraft, and pass
    the dataset's ``class_names``.
    """
    return SACConfig(
        backbone="resnet50", in_chans=3, image_size=448, resize_ratio=512 / 448,
        mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
        num_classes=200, class_names=(), top_k=10, max_words=4, word_dim=300,
        class_dim=1024, joint_dim=1024, alpha=0.5, d_phi=0.1, drop_mode="low",
        optimizer="sgd", lr=1e-3, momentum=0.9, weight_decay=1e-5, batch_size=12,
        epochs=80, steps=None, schedule="step", lr_decay=0.9, decay_every_epochs=2,
    )


def code() -> SACConfig:
    """The public TensorFlow code's choices on the paper backbone: k=5, 3 words, shared projections, residual
    2nd head, lambda=0.01, WS-DAN-style drop, cosine schedule (GloVe init needs ``word_vectors``; its 2-layer
    LSTM is not reproduced, see README)."""
    from dataclasses import replace

    return replace(paper(), top_k=5, max_words=3, shared_projections=True, second_head="residual",
                   second_weight=0.01, drop_mode="wsdan", schedule="cosine")
