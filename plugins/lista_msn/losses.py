"""Training losses: the MSN's negative log-likelihood (Eq. 7) and LISTA's squared error to the LASSO codes."""
from __future__ import annotations

import math

import torch

from zoo_plugins.lista_msn.model import Mixture


def mixture_log_likelihood(mixture: Mixture, z: torch.Tensor) -> torch.Tensor:
    """``ln sum_i alpha_i phi_i(z)`` per sample with diagonal Gaussian kernels (Eq. 2-3); ``z`` is ``[B, m]``."""
    diff = (z[:, None, :] - mixture.mu) / mixture.sigma
    log_phi = -0.5 * (diff**2).sum(2) - mixture.sigma.log().sum(2) - 0.5 * z.shape[1] * math.log(2 * math.pi)
    return torch.logsumexp(mixture.alpha.clamp_min(1e-30).log() + log_phi, dim=1)


def msn_nll(mixture: Mixture, z: torch.Tensor) -> torch.Tensor:
    """``E = -sum_q ln sum_i alpha_i phi_i(z_q | z_hat_q)`` (Eq. 7), averaged over the batch."""
    return -mixture_log_likelihood(mixture, z).mean()


def code_mse(z_hat: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """``||z_hat - z*||^2`` averaged over the batch (LISTA's training loss, Gregor & LeCun)."""
    return ((z_hat - z) ** 2).sum(1).mean()
