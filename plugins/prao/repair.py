"""The person pose repair module (PPR): find occluders, mask them, inpaint the person with the e-GAN.

- **Occlusion segmenter**: a small convolutional network predicting the mask of everything that is not the
  central person (the paper retrains an instance segmentation model for this; its weights are not available).
- **Random erasure** (the paper's e-GAN training data): a rectangle of random size ``(w_m, h_m)`` at a random
  corner ``P = (x_m, y_m)``, redrawn until ``x_m + w_m <= w`` and ``y_m + h_m <= h``, is blanked.
- **Edge weight matrix** (Eq. 1): ``W(i, j) = 0.9^mu`` with ``mu`` the city-block distance from (i, j) to the
  erased rectangle, and 0 inside it.
- **e-GAN**: an encoder-decoder generator that takes the masked image and the mask and returns the image with
  the masked part filled in, and a patch discriminator. Generator loss: the non-saturating GAN loss (Eq. 2)
  plus an L1 reconstruction inside the mask and an edge-weighted L1 (``W``) around it; how ``W`` enters the loss
  is not stated in the paper (chosen here).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def random_erasure(size: tuple[int, int], generator: torch.Generator, min_frac: float = 0.2,
                   max_frac: float = 0.5) -> tuple[int, int, int, int]:
    """``(x_m, y_m, w_m, h_m)`` of a rectangle drawn as the paper describes (redrawn until it fits)."""
    h, w = size
    while True:
        wm = int(w * (min_frac + (max_frac - min_frac) * float(torch.rand((), generator=generator))))
        hm = int(h * (min_frac + (max_frac - min_frac) * float(torch.rand((), generator=generator))))
        xm, ym = (int(v) for v in (torch.rand(2, generator=generator) * torch.tensor([w, h])))
        if xm + wm <= w and ym + hm <= h and wm > 0 and hm > 0:
            return xm, ym, wm, hm


def edge_weights(size: tuple[int, int], box: tuple[int, int, int, int], decay: float = 0.9) -> torch.Tensor:
    """Eq. 1: ``decay ** mu`` outside the rectangle (``mu`` = city-block distance to it), 0 inside; (H, W)."""
    h, w = size
    xm, ym, wm, hm = box
    ys, xs = torch.arange(h)[:, None].float(), torch.arange(w)[None, :].float()
    dx = (xm - xs).clamp(min=0) + (xs - (xm + wm - 1)).clamp(min=0)
    dy = (ym - ys).clamp(min=0) + (ys - (ym + hm - 1)).clamp(min=0)
    mu = dx + dy
    return torch.where(mu > 0, decay ** mu, torch.zeros_like(mu))


def _conv(i: int, o: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(i, o, 3, stride, 1), nn.BatchNorm2d(o), nn.ReLU())


class OcclusionSegmenter(nn.Module):
    """Per-pixel occluder logits (B, 1, H, W) of an image."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.net = nn.Sequential(_conv(3, width), _conv(width, width, 2), _conv(width, width),
                                 nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                                 nn.Conv2d(width, 1, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Occluder logits."""
        return self.net(x)


class Generator(nn.Module):
    """The e-GAN generator: (masked image, mask) -> image; outside the mask the input is kept."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.encode = nn.Sequential(_conv(4, width), _conv(width, 2 * width, 2), _conv(2 * width, 2 * width, 2))
        self.decode = nn.Sequential(nn.Upsample(scale_factor=2), _conv(2 * width, width),
                                    nn.Upsample(scale_factor=2), _conv(width, width), nn.Conv2d(width, 3, 3, padding=1))

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The repaired image (mask: 1 where the image must be generated)."""
        masked = image * (1 - mask)
        filled = torch.sigmoid(self.decode(self.encode(torch.cat([masked, mask], dim=1))))
        return masked + mask * filled


class Discriminator(nn.Module):
    """A patch discriminator: real/fake logits per patch."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, width, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(width, 2 * width, 4, 2, 1),
                                 nn.LeakyReLU(0.2), nn.Conv2d(2 * width, 1, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Patch logits."""
        return self.net(x)


def generator_loss(fake_logits: torch.Tensor, fake: torch.Tensor, real: torch.Tensor, mask: torch.Tensor,
                   weights: torch.Tensor, reconstruction: float) -> torch.Tensor:
    """Non-saturating adversarial loss + ``reconstruction`` x (L1 inside the mask + W-weighted L1 around it)."""
    adversarial = F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    error = (fake - real).abs().mean(1, keepdim=True)
    inside = (error * mask).sum() / mask.sum().clamp(min=1)
    edge = (error * weights[:, None]).sum() / weights.sum().clamp(min=1e-6)
    return adversarial + reconstruction * (inside + edge)


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Eq. 2 for the discriminator: log D(x) + log(1 - D(G(m)))."""
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
