"""Variant configs of CETransformer (frozen dataclasses, JSON-able, no torch import)."""
from __future__ import annotations

from dataclasses import dataclass

from zoo.errors import ConfigError


@dataclass(frozen=True)
class CETConfig:
    """Encoder, heads, loss weights, WGAN balancing and recipe; and the IHDP-like data they are trained on.

    Encoder: ``encoder`` ``transformer`` (each of the ``num_features`` covariates is a token ``x_j w_j + b_j`` of
        ``dim``; a CLS token; ``blocks`` pre-norm transformer blocks with ``heads`` and an FFN of ``ffn``; the CLS
        output is the representation X_E) or ``mlp`` (the "without transformer" ablation, ``hidden`` units).
    Heads: the decoder (X_E -> X_hat), the critic D (X_E -> score) and the two outcome heads h_0, h_1, each an MLP
        with one hidden layer of ``hidden`` units.
    Loss (Eq. 7): ``alpha`` reconstruction, ``beta`` adversarial (0: the "without discriminator" ablation),
        ``gamma`` factual MSE. Critic: ``n_critic`` steps per step, Lipschitz by weight clipping ``clip`` (WGAN)
        or a gradient penalty ``gp_weight`` (WGAN-GP; then ``clip`` must be None).
    Recipe: Adam ``lr``, ``batch_size``, ``steps``, ``weight_decay``.
    Data: ``units`` and ``treated_fraction`` of each realization, ``num_features`` (6 continuous + rest binary).
    """

    encoder: str = "transformer"
    num_features: int = 25
    continuous: int = 6
    dim: int = 16
    blocks: int = 1
    heads: int = 2
    ffn: int = 32
    hidden: int = 32
    dropout: float = 0.0
    alpha: float = 1.0
    beta: float = 1.0
    gamma: float = 1.0
    n_critic: int = 3
    clip: float | None = 0.01
    gp_weight: float = 0.0
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 128
    steps: int = 400
    units: int = 747
    treated_fraction: float = 0.186

    def __post_init__(self) -> None:
        if self.encoder not in ("transformer", "mlp"):
            raise ConfigError(f"CETConfig.encoder must be 'transformer' or 'mlp', got {self.encoder!r}")
        if self.dim % self.heads:
            raise ConfigError(f"dim {self.dim} must be divisible by heads {self.heads}")
        if self.clip is not None and self.gp_weight:
            raise ConfigError("use weight clipping (clip) or a gradient penalty (gp_weight), not both")
        if not 0 < self.continuous <= self.num_features:
            raise ConfigError(f"continuous must be in 1..num_features, got {self.continuous}")


def tiny() -> CETConfig:
    """CPU seconds: d = 16, one block of 2 heads, 400 steps of 128 units."""
    return CETConfig()


def paper() -> CETConfig:
    """IHDP-sized (25 covariates); the paper gives no sizes: d = 64, 3 blocks of 4 heads, FFN 128, hidden 64,
    alpha = beta = gamma = 1, WGAN weight clipping 0.01, 3000 steps."""
    return CETConfig(dim=64, blocks=3, heads=4, ffn=128, hidden=64, dropout=0.1, steps=3000)


def no_transformer() -> CETConfig:
    """Table 2's "without transformer": the same losses on an MLP encoder."""
    return CETConfig(encoder="mlp")


def no_discriminator() -> CETConfig:
    """Table 2's "without discriminator": beta = 0 (no adversarial balancing)."""
    return CETConfig(beta=0.0)
