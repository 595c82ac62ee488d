"""A learnable Gabor filter bank whose parameters cannot leave their ranges, and statistics of its responses.

Filter ``k`` is ``g(x, y) = exp(-(x'^2 + gamma^2 y'^2) / (2 sigma^2)) cos(2 pi x' / lambda + psi)`` with
``x' = x cos theta + y sin theta``, ``y' = -x sin theta + y cos theta``, made zero-mean (it answers texture, not
brightness) and unit-norm. Each parameter is ``lo + (hi - lo) * sigmoid(raw)``, so any gradient step keeps it in
range; ``sigma`` follows the wavelength and the bandwidth ``b`` (octaves):
``sigma = lambda / pi * sqrt(ln 2 / 2) * (2^b + 1) / (2^b - 1)``. Filters start on a grid of orientations
(``k pi / O``) and geometrically spaced wavelengths; orientation ``k`` may move half a step either way.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def bounded(raw: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    """``lo + (hi - lo) * sigmoid(raw)``: a value that stays inside [lo, hi]."""
    return lo + (hi - lo) * torch.sigmoid(raw)


def _logit(p: torch.Tensor) -> torch.Tensor:
    p = p.clamp(1e-4, 1 - 1e-4)
    return torch.log(p / (1 - p))


def sigma_from_bandwidth(wavelength: torch.Tensor, bandwidth: torch.Tensor) -> torch.Tensor:
    """The Gaussian envelope's sigma of a Gabor filter of this wavelength and octave bandwidth."""
    two_b = torch.pow(2.0, bandwidth)
    return wavelength / math.pi * math.sqrt(math.log(2) / 2) * (two_b + 1) / (two_b - 1)


class GaborBank(nn.Module):
    """``orientations x scales`` learnable Gabor filters of ``kernel_size`` (module docstring)."""

    def __init__(self, orientations: int, scales: int, kernel_size: int, wavelength: tuple[float, float],
                 bandwidth: tuple[float, float], aspect: tuple[float, float], phase: tuple[float, float]) -> None:
        super().__init__()
        self.orientations, self.kernel_size = orientations, kernel_size
        self.ranges = {"wavelength": tuple(wavelength), "bandwidth": tuple(bandwidth), "aspect": tuple(aspect),
                       "phase": tuple(phase)}
        n = orientations * scales
        lo, hi = wavelength
        waves = torch.tensor([lo * (hi / lo) ** ((s + 0.5) / scales) for s in range(scales)]).repeat_interleave(
            orientations)
        self.raw_wavelength = nn.Parameter(_logit((waves - lo) / (hi - lo)))
        self.raw_theta = nn.Parameter(torch.zeros(n))
        self.raw_bandwidth = nn.Parameter(torch.zeros(n))
        self.raw_aspect = nn.Parameter(torch.zeros(n))
        self.raw_phase = nn.Parameter(torch.zeros(n))
        self.register_buffer("slot", (torch.arange(n) % orientations).float() * math.pi / orientations,
                             persistent=False)
        half = kernel_size // 2
        axis = torch.arange(-half, half + 1, dtype=torch.float32)
        yy, xx = torch.meshgrid(axis, axis, indexing="ij")
        self.register_buffer("xx", xx.contiguous(), persistent=False)  # the kernel's pixel grid
        self.register_buffer("yy", yy.contiguous(), persistent=False)

    def parameters_in_range(self) -> dict[str, torch.Tensor]:
        """The constrained parameters: theta, wavelength, bandwidth, sigma, aspect (gamma), phase (psi)."""
        step = math.pi / self.orientations
        theta = self.slot + step * (torch.sigmoid(self.raw_theta) - 0.5)
        values = {name: bounded(getattr(self, f"raw_{name}"), *self.ranges[name])
                  for name in ("wavelength", "bandwidth", "aspect", "phase")}
        values["theta"] = theta
        values["sigma"] = sigma_from_bandwidth(values["wavelength"], values["bandwidth"])
        return values

    def kernels(self) -> torch.Tensor:
        """The filters (F, 1, k, k), zero-mean and unit-norm."""
        p = self.parameters_in_range()
        theta, lam, sigma = p["theta"][:, None, None], p["wavelength"][:, None, None], p["sigma"][:, None, None]
        gamma, psi = p["aspect"][:, None, None], p["phase"][:, None, None]
        xr = self.xx * torch.cos(theta) + self.yy * torch.sin(theta)
        yr = -self.xx * torch.sin(theta) + self.yy * torch.cos(theta)
        g = torch.exp(-(xr ** 2 + gamma ** 2 * yr ** 2) / (2 * sigma ** 2)) * torch.cos(2 * math.pi * xr / lam + psi)
        g = g - g.mean(dim=(-2, -1), keepdim=True)
        return (g / g.flatten(1).norm(dim=1).clamp(min=1e-8)[:, None, None])[:, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Responses (B, F, H, W) of the grey-level image (the channel mean) of ``x`` (B, C, H, W)."""
        return F.conv2d(x.mean(dim=1, keepdim=True), self.kernels(), padding=self.kernel_size // 2)


def response_statistics(responses: torch.Tensor) -> torch.Tensor:
    """Per filter: mean of |r|, standard deviation of r and max of |r| over the region -> (B, 3F)."""
    flat = responses.flatten(2)
    return torch.cat([flat.abs().mean(-1), flat.std(-1), flat.abs().amax(-1)], dim=1)
