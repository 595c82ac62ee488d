"""Auxiliary networks (local objectives) of DGL, InfoPro, AugLocal and MAN.

Every auxiliary network is called as ``aux(h, x_in, target) -> (loss, logs)`` where ``h`` is the local module's
output, ``x_in`` the network input (for reconstruction) and ``target`` the labels.
"""
from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn import functional as F

from zoo.engines.local_learning import LossWeightSchedule
from zoo.errors import ConfigError
from zoo_plugins.local_learning.resnet import BasicBlock, init_weights

RECON_LOSSES: tuple[str, ...] = ("bce", "mse")
EMA_UPDATES: tuple[str, ...] = ("after_local_backward", "after_step")


def depth_weight(first: float, last: float, module: int, num_modules: int, stage: int = 0, by: str = "module"
                 ) -> float:
    """A loss weight interpolated linearly, lambda(r) = l1 (1 - r) + l2 r (see :class:`LossWeightSchedule`).

    ``by="module"``: r = k / (K - 2) (InfoPro); ``by="stage"``: r = stage / (K - 2) (MAN's reference code).
    """
    return LossWeightSchedule(first, last, by).weight(module, num_modules, stage)


class ConvClassifierAux(nn.Module):
    """DGL-style auxiliary classifier ('1c2f' in the InfoPro code): conv3x3-BN-ReLU, pool, FC-ReLU-FC, CE."""

    def __init__(self, channels: int, num_classes: int, feature_dim: int = 128, weight: float = 1.0) -> None:
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(channels, channels, 3, 1, 1, bias=False), nn.BatchNorm2d(channels),
                                  nn.ReLU())
        self.fc = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, feature_dim), nn.ReLU(),
                                nn.Linear(feature_dim, num_classes))
        self.weight = weight

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        """Auxiliary class scores."""
        return self.fc(self.conv(h))

    def forward(self, h: torch.Tensor, x_in: torch.Tensor, target: torch.Tensor
                ) -> tuple[torch.Tensor, dict[str, float]]:
        """Weighted cross-entropy of the auxiliary classifier."""
        ce = F.cross_entropy(self.logits(h), target)
        return self.weight * ce, {"aux_ce": float(ce.detach())}


class Decoder(nn.Module):
    """InfoPro's reconstruction decoder ('2c'): upsample to the input size, conv-BN-ReLU, conv to the input channels.

    ``loss="bce"`` (the reference code): a sigmoid on the output and binary cross-entropy against the image in
    [0, 1]; ``loss="mse"``: a linear output and the mean squared error.
    """

    def __init__(self, channels: int, out_channels: int, hidden: int = 12, loss: str = "bce") -> None:
        super().__init__()
        if loss not in RECON_LOSSES:
            raise ConfigError(f"unknown reconstruction loss {loss!r}; expected one of {RECON_LOSSES}")
        self.net = nn.Sequential(nn.Conv2d(channels, hidden, 3, 1, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(),
                                 nn.Conv2d(hidden, out_channels, 3, 1, 1))
        self.loss = loss

    def forward(self, h: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """Reconstruction of the input image from ``h`` (in [0, 1] with the BCE loss)."""
        out = self.net(F.interpolate(h, size=size, mode="bilinear", align_corners=True))
        return torch.sigmoid(out) if self.loss == "bce" else out

    def reconstruction_loss(self, h: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        """The reconstruction term for features ``h`` of ``image``."""
        out = self(h, image.shape[-2:])
        if self.loss == "bce":
            return F.binary_cross_entropy(out, image.clamp(0.0, 1.0))
        return F.mse_loss(out, image)


class InfoProAux(nn.Module):
    """InfoPro's local loss: ``ixx * reconstruction loss + ixy * auxiliary CE`` (reconstruction: see :class:`Decoder`)."""

    def __init__(self, channels: int, in_channels: int, num_classes: int, ixx: float, ixy: float,
                 feature_dim: int = 128, recon_loss: str = "bce") -> None:
        super().__init__()
        self.decoder = Decoder(channels, in_channels, loss=recon_loss)
        self.classifier = ConvClassifierAux(channels, num_classes, feature_dim)
        self.ixx, self.ixy = ixx, ixy

    def objective(self, h: torch.Tensor, x_in: torch.Tensor, target: torch.Tensor
                  ) -> tuple[torch.Tensor, dict[str, float]]:
        """The weighted sum of the two terms for features ``h``."""
        rec = self.decoder.reconstruction_loss(h, x_in) if self.ixx > 0 else h.new_zeros(())
        ce = F.cross_entropy(self.classifier.logits(h), target) if self.ixy > 0 else h.new_zeros(())
        return self.ixx * rec + self.ixy * ce, {"rec": float(rec.detach()), "aux_ce": float(ce.detach())}

    def forward(self, h: torch.Tensor, x_in: torch.Tensor, target: torch.Tensor
                ) -> tuple[torch.Tensor, dict[str, float]]:
        """InfoPro loss on the module output."""
        return self.objective(h, x_in, target)


def auglocal_depth(d: int, module: int, num_aux: int, coeff: float) -> int:
    """AugLocal's pyramidal depth: d_l = max(1, round(d (1 - l c / (K - 2)) + l c / (K - 2)))."""
    if num_aux <= 1:
        return d
    ratio = module * coeff / (num_aux - 1)
    return max(1, round(d * (1 - ratio) + ratio))


def auglocal_sample(layer: int, num_layers: int, depth: int) -> list[int]:
    """Indices of the downstream layers AugLocal samples uniformly for the auxiliary net of ``layer``.

    ``round(l + (L - l - 1) / d * i)`` for i = 1..d; all remaining layers when fewer than d remain.
    """
    remaining = num_layers - layer - 1
    if remaining <= depth:
        return list(range(layer + 1, num_layers))
    picked = [round(layer + (num_layers - layer - 1) / depth * i) for i in range(1, depth + 1)]
    return sorted(set(picked))


class AugLocalAux(nn.Module):
    """AugLocal's auxiliary network: fresh copies of uniformly sampled downstream layers, then a linear head.

    Each sampled layer is rebuilt as a freshly initialised BasicBlock of the same width (no weight sharing);
    a stride-2 block with a 1x1 projection is used where the width grows. Head: pool, flatten, BatchNorm1d
    (only when depth <= 1), linear, cross-entropy.
    """

    def __init__(self, in_channels: int, widths: list[int], num_classes: int) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        channels = in_channels
        for width in widths:
            stride = 2 if width > channels else 1
            blocks.append(BasicBlock(channels, width, stride))
            channels = width
        self.blocks = nn.Sequential(*blocks)
        head: list[nn.Module] = [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        if len(widths) <= 1:
            head.append(nn.BatchNorm1d(channels))
        head.append(nn.Linear(channels, num_classes))
        self.head = nn.Sequential(*head)
        self.depth = len(widths)
        init_weights(self)

    def forward(self, h: torch.Tensor, x_in: torch.Tensor, target: torch.Tensor
                ) -> tuple[torch.Tensor, dict[str, float]]:
        """Cross-entropy of the augmented auxiliary network."""
        ce = F.cross_entropy(self.head(self.blocks(h)), target)
        return ce, {"aux_ce": float(ce.detach())}


class MANAux(nn.Module):
    """MAN's auxiliary network: ``y = LB(h) + EMA(h)`` feeding InfoPro's decoder and classifier.

    ``ema`` is a frozen copy of the next module's first layer and ``lb`` (the paper's learnable bias) a trainable
    copy of the same layer. The momentum update ``theta_ema <- m theta_ema + (1 - m) theta_next`` touches
    **parameters only** (the copy's BatchNorm statistics follow its own forward passes) and runs, as in the
    reference code, **right after this module's local backward, before the optimizer step** (``ema_update=
    "after_local_backward"``; ``"after_step"`` moves it after the step, through :func:`update_momentum_copies`).
    """

    def __init__(self, next_layer: nn.Module, in_channels: int, num_classes: int, ixx: float, ixy: float,
                 momentum: float, feature_dim: int = 128, recon_loss: str = "bce",
                 ema_update: str = "after_local_backward") -> None:
        super().__init__()
        if ema_update not in EMA_UPDATES:
            raise ConfigError(f"unknown MAN EMA update point {ema_update!r}; expected one of {EMA_UPDATES}")
        self.ema = copy.deepcopy(next_layer)
        for p in self.ema.parameters():
            p.requires_grad_(False)
        self.lb = copy.deepcopy(next_layer)
        out_channels = int(getattr(next_layer, "out_channels"))
        self.infopro = InfoProAux(out_channels, in_channels, num_classes, ixx, ixy, feature_dim, recon_loss)
        self.momentum = momentum
        self.ema_update = ema_update
        self._next = [next_layer]  # not a submodule: the live layer belongs to the next module

    @torch.no_grad()
    def update_ema(self) -> None:
        """theta_ema <- m theta_ema + (1 - m) theta_next, parameters only."""
        live = self._next[0]
        for p_ema, p in zip(self.ema.parameters(), live.parameters()):
            p_ema.mul_(self.momentum).add_(p.detach(), alpha=1.0 - self.momentum)

    def after_backward(self) -> None:
        """The engine's hook after this module's local backward: the reference code's EMA update point."""
        if self.ema_update == "after_local_backward":
            self.update_ema()

    def forward(self, h: torch.Tensor, x_in: torch.Tensor, target: torch.Tensor
                ) -> tuple[torch.Tensor, dict[str, float]]:
        """InfoPro loss on the momentum-augmented features."""
        return self.infopro.objective(self.lb(h) + self.ema(h), x_in, target)
