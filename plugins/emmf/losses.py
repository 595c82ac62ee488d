"""EMMF's losses: reconstruction L_R (Eq. 5), the generator's adversarial term L_RD (Eq. 8), the discriminators'
L_D (Eq. 7) and the autoencoder's total L_1 = L_R + lambda_d L_RD (Eq. 9). Discriminator outputs are logits;
``log D = logsigmoid(logit)``, ``log(1 - D) = logsigmoid(-logit)``."""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F


def reconstruction_loss(views: Sequence[torch.Tensor], recon: Sequence[torch.Tensor], dist: str = "mse"
                        ) -> torch.Tensor:
    """``L_R = sum_p dist(X^(p), X_hat^(p))``: mean squared error per view (``bce``: binary cross-entropy of
    logits against data in [0, 1])."""
    if dist == "bce":
        return sum(F.binary_cross_entropy_with_logits(r, x) for x, r in zip(views, recon))  # type: ignore[return-value]
    return sum(F.mse_loss(r, x) for x, r in zip(views, recon))  # type: ignore[return-value]


def generator_loss(fake_logits: Sequence[torch.Tensor]) -> torch.Tensor:
    """Eq. 8: ``L_RD = -sum_p mean_j ln D_p(x_hat_j^(p))`` (the reconstructions try to pass as real)."""
    return -sum(F.logsigmoid(z).mean() for z in fake_logits)  # type: ignore[return-value]


def discriminator_loss(real_logits: Sequence[torch.Tensor], fake_logits: Sequence[torch.Tensor]) -> torch.Tensor:
    """Eq. 7 as a loss to minimise: ``-sum_p [mean_j ln D_p(x_j) + mean_j ln(1 - D_p(x_hat_j))]``."""
    return -sum(F.logsigmoid(r).mean() + F.logsigmoid(-f).mean()  # type: ignore[return-value]
                for r, f in zip(real_logits, fake_logits))


def autoencoder_loss(views: Sequence[torch.Tensor], recon: Sequence[torch.Tensor],
                     fake_logits: Sequence[torch.Tensor], lambda_d: float, dist: str = "mse"
                     ) -> tuple[torch.Tensor, dict[str, float]]:
    """Eq. 9: ``L_1 = L_R + lambda_d L_RD``, with both terms logged."""
    l_r = reconstruction_loss(views, recon, dist)
    l_rd = generator_loss(fake_logits) if lambda_d else torch.zeros((), device=l_r.device)
    logs = {"l_r": float(l_r.detach()), "l_rd": float(l_rd.detach())}  # pragma: no mutate (logging only)
    return l_r + lambda_d * l_rd, logs
