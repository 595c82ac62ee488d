"""Image transforms of the transfer attacks: the Gaussian kernel (TI's ``W``, MAI's ``V``), depthwise blur and
the diverse-input random resize-and-pad (DI).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from zoo.errors import ConfigError


def gaussian_kernel(size: int, nsig: float = 3.0, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A normalised ``size x size`` Gaussian kernel sampled at ``linspace(-nsig, nsig, size)`` (TI-FGSM's ``W``).

    The kernel is the outer product of the sampled standard normal density with itself, divided by its sum, so it
    sums to one and spans ``+-nsig`` standard deviations.
    """
    if size < 1 or size % 2 == 0:
        raise ConfigError(f"a Gaussian kernel needs an odd size >= 1, got {size}")
    if size == 1:
        return torch.ones(1, 1, dtype=dtype)
    t = torch.linspace(-nsig, nsig, size, dtype=torch.float64)
    one = torch.exp(-0.5 * t**2) / math.sqrt(2 * math.pi)
    kernel = torch.outer(one, one)
    return (kernel / kernel.sum()).to(dtype)


def blur(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Depthwise 'same' convolution of ``x [B, C, H, W]`` with one 2-D ``kernel`` per channel (zero padding).

    Used on gradients (TI: ``W * g``) and on images (MAI's mixed input ``V * x``).
    """
    if x.dim() != 4:
        raise ConfigError(f"blur expects [B, C, H, W] images, got shape {tuple(x.shape)}")
    kh, kw = kernel.shape
    weight = kernel.to(dtype=x.dtype, device=x.device).expand(x.shape[1], 1, kh, kw)
    return F.conv2d(x, weight, padding=(kh // 2, kw // 2), groups=x.shape[1])


def diverse_input(x: torch.Tensor, prob: float = 0.5, resize_rate: float = 1.1, resize_back: bool = True,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """DI2-FGSM's ``D(x; p)`` (Eq. 9 of MAI-FGPLM): with probability ``prob`` resize the batch to a random size
    ``rnd`` in ``[S, S * resize_rate)`` and zero-pad it at a random offset to ``S * resize_rate``; otherwise ``x``.

    ``resize_back=True`` resizes the padded image back to ``S`` so that models with a fixed input size accept it
    (the original DI feeds the larger image to Inception networks, which accept any size). Differentiable in ``x``.
    """
    if not 0.0 <= prob <= 1.0:
        raise ConfigError(f"diverse-input probability must be in [0, 1], got {prob}")
    if resize_rate < 1.0:
        raise ConfigError(f"diverse-input resize_rate must be >= 1, got {resize_rate}")
    if float(torch.rand((), generator=generator)) >= prob:
        return x
    size = x.shape[-1]
    big = max(int(size * resize_rate), size + 1)
    rnd = int(torch.randint(size, big, (), generator=generator))
    rescaled = F.interpolate(x, size=(rnd, rnd), mode="bilinear", align_corners=False)
    rem = big - rnd
    top = int(torch.randint(0, rem + 1, (), generator=generator))
    left = int(torch.randint(0, rem + 1, (), generator=generator))
    padded = F.pad(rescaled, (left, rem - left, top, rem - top), value=0.0)
    if not resize_back:
        return padded
    return F.interpolate(padded, size=(size, size), mode="bilinear", align_corners=False)
