"""The InvICS loss (Eq. 12): ``L = 1/N_b sum_i ||x_i - x_hat_i||^2 + gamma * 1/M ||Phi Phi^T - I||^2``."""
from __future__ import annotations

import torch


def discrepancy(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """``1/N_b sum_i ||x_i - x_hat_i||_2^2`` (squared L2 per image, averaged over the batch)."""
    return ((x - x_hat) ** 2).flatten(1).sum(1).mean()


def orthogonality(phi: torch.Tensor) -> torch.Tensor:
    """``1/M ||Phi Phi^T - I||_F^2`` for ``Phi`` of shape ``M x N``."""
    m = phi.shape[0]
    return ((phi @ phi.T - torch.eye(m, dtype=phi.dtype, device=phi.device)) ** 2).sum() / m


def invics_loss(x: torch.Tensor, x_hat: torch.Tensor, phi: torch.Tensor, gamma: float) -> torch.Tensor:
    """Eq. 12."""
    return discrepancy(x, x_hat) + gamma * orthogonality(phi)


def psnr(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """PSNR in dB per image for images in [0, 1] (the reconstruction is clamped to [0, 1])."""
    mse = ((x - x_hat.clamp(0, 1)) ** 2).flatten(1).mean(1)
    return 10 * torch.log10(1.0 / mse.clamp_min(1e-12))
