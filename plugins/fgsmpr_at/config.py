"""Variant configs of FGSMPR adversarial training (frozen dataclasses, JSON-able, no torch import)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from zoo.errors import ConfigError

Arch = Literal["mnist_cnn", "preact_resnet18"]
Mode = Literal["fgsmpr", "fgsm", "fast_fgsm", "pgd", "standard"]
FgsmStep = Literal["epsilon", "alpha"]
Pick = Literal["random", "first"]

ARCHS: tuple[str, ...] = ("mnist_cnn", "preact_resnet18")
MODES: tuple[str, ...] = ("fgsmpr", "fgsm", "fast_fgsm", "pgd", "standard")


@dataclass(frozen=True)
class FGSMPRConfig:
    """Classifier, threat model, FGSMPR regulariser and recipe (paper symbols in brackets).

    Classifier:
        arch: ``mnist_cnn`` (the MNIST network of Wong et al. that the paper uses: conv 16@4x4/2, conv 32@4x4/2,
            FC 100, FC classes; the first FC adapts to ``image_size``) or ``preact_resnet18`` (CIFAR-10: timm's
            ResNetV2-18 with a 3x3 stride-1 stem); in_channels, image_size, num_classes; width (conv widths
            multiplier, 1 = the paper's 16/32), hidden (FC width, paper 100).
    Threat model (inputs in [0, 1]):
        epsilon [eps]: L-inf budget (MNIST 0.3, CIFAR-10 8/255); pgd_steps [K] = 3 and alpha [alpha] = eps / K
            (``alpha=None`` means eps / K) for the regulariser's PGD; m [m]: examples per batch that get a PGD
            example (1); lam [lambda]: weight of the regulariser (MNIST 0.1, CIFAR-10 0.5).
        fgsm_step: ``epsilon`` (x_fgsm = x + eps sign(grad), Eq. 2 and the FGSM-AT baseline) or ``alpha``
            (Algorithm 1 line 4 writes the step as alpha).
        pgd_init: ``zero`` (Algorithm 1: delta starts at 0) or ``random`` (uniform in the ball); pgd_pick:
            ``random`` (one seeded draw per batch) or ``first`` examples of the batch.
        mode: ``fgsmpr`` (the method) or a baseline on the same network and recipe: ``fgsm`` (FGSM AT),
            ``fast_fgsm`` (random init + 1.25 eps step, Wong et al.), ``pgd`` (PGD-``train_pgd_steps`` AT with
            step ``train_pgd_alpha``), ``standard`` (clean training).
    Recipe: optimizer, lr, momentum, weight_decay, batch_size; epochs (converted to steps over the training set)
        unless ``steps`` is set; schedule (constant / cosine / step).
    Evaluation: eval_pgd_steps / eval_restarts / eval_alpha (PGD-K-N of the paper: MNIST 40 or 20 steps, 10
        restarts, alpha 0.1 -- CIFAR-10 50 or 20 steps, 10 restarts, 2/255).
    """

    arch: Arch = "mnist_cnn"
    in_channels: int = 1
    image_size: int = 8
    num_classes: int = 10
    width: int = 1
    hidden: int = 100
    epsilon: float = 0.3
    alpha: float | None = None
    pgd_steps: int = 3
    m: int = 1
    lam: float = 0.1
    fgsm_step: FgsmStep = "epsilon"
    pgd_init: Literal["zero", "random"] = "zero"
    pgd_pick: Pick = "random"
    mode: Mode = "fgsmpr"
    train_pgd_steps: int = 40
    train_pgd_alpha: float = 0.01
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 0.0
    batch_size: int = 64
    epochs: int = 50
    steps: int | None = None
    schedule: str = "constant"
    eval_pgd_steps: int = 20
    eval_restarts: int = 1
    eval_alpha: float = 0.1

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ConfigError(f"FGSMPRConfig.arch must be one of {ARCHS}, got {self.arch!r}")
        if self.mode not in MODES:
            raise ConfigError(f"FGSMPRConfig.mode must be one of {MODES}, got {self.mode!r}")
        if self.fgsm_step not in ("epsilon", "alpha"):
            raise ConfigError(f"FGSMPRConfig.fgsm_step must be 'epsilon' or 'alpha', got {self.fgsm_step!r}")
        if self.pgd_init not in ("zero", "random") or self.pgd_pick not in ("random", "first"):
            raise ConfigError("FGSMPRConfig.pgd_init must be zero/random and pgd_pick random/first")
        if not 0 < self.epsilon <= 1:
            raise ConfigError(f"FGSMPRConfig.epsilon must be in (0, 1] (images in [0, 1]), got {self.epsilon}")
        if self.pgd_steps < 1 or self.m < 1:
            raise ConfigError(f"FGSMPRConfig needs pgd_steps >= 1 and m >= 1, got {self.pgd_steps}, {self.m}")
        if self.m > self.batch_size:
            raise ConfigError(f"FGSMPRConfig.m ({self.m}) cannot exceed batch_size ({self.batch_size})")
        if self.lam < 0:
            raise ConfigError(f"FGSMPRConfig.lam must be >= 0, got {self.lam}")
        if self.arch == "mnist_cnn" and self.image_size < 4:
            raise ConfigError(f"the MNIST CNN needs image_size >= 4, got {self.image_size}")

    @property
    def pgd_alpha(self) -> float:
        """The regulariser's PGD step ``alpha`` (eps / K unless given)."""
        return self.alpha if self.alpha is not None else self.epsilon / self.pgd_steps


def tiny() -> FGSMPRConfig:
    """scikit-learn digits (8x8): the paper's MNIST CNN at 8x8 input, eps 0.3, K 3, m 1, lambda 0.1; Adam,
    batch 64, 30 epochs (the digits training split has 1,347 images)."""
    return FGSMPRConfig(epochs=30)


def paper() -> FGSMPRConfig:
    """The MNIST setting (Table 1): Wong et al.'s CNN on 28x28, eps 0.3, alpha 0.1 (= eps / K), K 3, m 1,
    lambda 0.1, 50 epochs; evaluation PGD-40-10. The paper gives no optimiser: Adam lr 1e-3, batch 100 is our
    choice."""
    return FGSMPRConfig(image_size=28, epsilon=0.3, alpha=0.1, lam=0.1, epochs=50, batch_size=100,
                        eval_pgd_steps=40, eval_restarts=10, eval_alpha=0.1)


def cifar() -> FGSMPRConfig:
    """The CIFAR-10 setting (Table 2): PreAct ResNet-18, eps 8/255, K 3, alpha eps/3, m 1, lambda 0.5,
    200 epochs; evaluation PGD-50-10 with alpha 2/255. The paper gives no optimiser: SGD (momentum 0.9,
    weight decay 5e-4, batch 128) with a cosine schedule from 0.2 is our choice (close to Wong et al.'s
    cyclic schedule)."""
    return replace(FGSMPRConfig(), arch="preact_resnet18", in_channels=3, image_size=32, epsilon=8 / 255,
                   lam=0.5, epochs=200, batch_size=128, optimizer="sgd", lr=0.2, momentum=0.9,
                   weight_decay=5e-4, schedule="cosine", eval_pgd_steps=50, eval_restarts=10, eval_alpha=2 / 255,
                   train_pgd_steps=7, train_pgd_alpha=2 / 255)
