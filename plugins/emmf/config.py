"""Variant configs of EMMF (frozen dataclasses, JSON-able, no torch import)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from zoo.errors import ConfigError

Dist = Literal["mse", "bce"]


@dataclass(frozen=True)
class EMMFConfig:
    """EMMF (paper symbols in brackets).

    num_samples [n]: rows of every view (the model is transductive: its input is the identity I_n);
    view_dims [d_p]: features of each view; rep_dim [k]: columns of the shared representation H;
    encoder_dims: hidden widths of the encoder I_n -> H (paper 1000, 500, 200; the decoders mirror them);
    disc_dims: hidden widths of each view's discriminator (paper 200, 100, 50, then 1); relu_h: ReLU on H too
    (the paper: "ReLU ... to activate each layer", but also "it is not necessary to force H_l to be
    non-negative"; a ReLU on a 4-d H dies on some seeds, so the default leaves H linear);
    dist: the reconstruction distance (``mse`` or ``bce`` for data in [0, 1], "dist" is left open);
    lambda_d [lambda_d]: weight of L_RD (tuned per dataset, value not given); 0 disables the discriminators
    (the ablation of Table 5); lr / disc_lr: Adam learning rates (not given); iterations [maxiter] (~800);
    num_clusters and kmeans_init: the final k-means on H; dataset: ``synthetic`` (views with planted clusters).
    """

    num_samples: int = 200
    view_dims: tuple[int, ...] = (24, 24, 24)
    rep_dim: int = 4
    encoder_dims: tuple[int, ...] = (64, 32, 16)
    disc_dims: tuple[int, ...] = (32, 16, 8)
    relu_h: bool = False
    dist: Dist = "mse"
    lambda_d: float = 0.1
    lr: float = 3e-3
    disc_lr: float = 1e-3
    iterations: int = 300
    num_clusters: int = 4
    kmeans_init: int = 10
    dataset: str = "synthetic"

    def __post_init__(self) -> None:
        if self.num_samples < 2 or not self.view_dims or min(self.view_dims) < 1 or self.rep_dim < 1:
            raise ConfigError(f"EMMFConfig needs num_samples >= 2, views with >= 1 feature and rep_dim >= 1, got "
                              f"{self.num_samples}, {self.view_dims}, {self.rep_dim}")
        if min(self.encoder_dims + self.disc_dims, default=1) < 1:
            raise ConfigError("EMMFConfig layer widths must be >= 1")
        if self.dist not in ("mse", "bce"):
            raise ConfigError(f"EMMFConfig.dist must be 'mse' or 'bce', got {self.dist!r}")
        if self.lambda_d < 0 or self.lr <= 0 or self.disc_lr <= 0 or self.iterations < 0:
            raise ConfigError("EMMFConfig needs lambda_d >= 0, positive learning rates and iterations >= 0")
        if self.num_clusters < 1 or self.num_clusters > self.num_samples:
            raise ConfigError(f"EMMFConfig.num_clusters must be in [1, num_samples], got {self.num_clusters}")
        if self.dataset != "synthetic":
            raise ConfigError(f"EMMFConfig.dataset must be 'synthetic', got {self.dataset!r}")


def tiny() -> EMMFConfig:
    """200 samples, three 24-d synthetic views whose planted 4 clusters only their combination separates;
    encoder 64-32-16-4, discriminators 32-16-8-1, Adam 3e-3, 300 iterations."""
    return EMMFConfig()


def no_discriminators() -> EMMFConfig:
    """Table 5's ablation on the tiny data: lambda_d = 0 (reconstruction only)."""
    return replace(tiny(), lambda_d=0.0)


def paper() -> EMMFConfig:
    """MSRC-v1 (Table 1): 210 images, 5 views (24-d colour moments, 576-d HOG, 512-d GIST, 256-d LBP, 254-d
    CENTRIST), 7 classes; encoder 1000-500-200-k with k = 7 (the paper gives k as "the dimension to reduce";
    we take the number of clusters), discriminators 200-100-50-1, 800 iterations (Fig. 2)."""
    return EMMFConfig(num_samples=210, view_dims=(24, 576, 512, 256, 254), rep_dim=7,
                      encoder_dims=(1000, 500, 200), disc_dims=(200, 100, 50), lr=1e-3, iterations=800,
                      num_clusters=7)
