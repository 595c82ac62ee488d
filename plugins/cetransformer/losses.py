"""Eq. 4-7: reconstruction, adversarial balancing (WGAN between the treated and control representations) and the
factual outcome loss, and their weighted sum."""
from __future__ import annotations

import torch
from torch.nn import functional as F

from zoo.gan import gradient_penalty, wasserstein_critic_loss, wasserstein_estimate


def reconstruction_loss(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """Eq. 4, ``||X - X_hat||_F^2``, per unit: the squared error summed over covariates, averaged over units."""
    return (x - x_hat).pow(2).sum(1).mean()


def factual_loss(outcomes: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Eq. 6: the MSE of the head of the received treatment, ``1/n sum (h(X_E, T) - Y)^2``."""
    return F.mse_loss(outcomes.gather(1, t.long().view(-1, 1)).squeeze(1), y)


def adversarial_loss(scores: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Eq. 5's inner value ``E_treated D(X_E) - E_control D(X_E)``: what the encoder minimises (0 when a group is
    missing from the batch)."""
    treated = t == 1
    if bool(treated.all()) or not bool(treated.any()):
        return scores.sum() * 0.0
    return wasserstein_estimate(scores[treated], scores[~treated])


def critic_loss(critic: torch.nn.Module, rep: torch.Tensor, t: torch.Tensor,
                gp_weight: float = 0.0) -> torch.Tensor:
    """The critic maximises Eq. 5, i.e. minimises ``E_control D - E_treated D`` (+ a gradient penalty between
    paired treated and control representations when ``gp_weight``)."""
    treated = t == 1
    if bool(treated.all()) or not bool(treated.any()):
        return rep.sum() * 0.0
    scores = critic(rep).squeeze(1)
    loss = wasserstein_critic_loss(scores[treated], scores[~treated])
    if gp_weight:
        a, b = rep[treated], rep[~treated]
        n = min(len(a), len(b))
        loss = loss + gradient_penalty(lambda z: critic(z).squeeze(1), a[:n], b[:n], weight=gp_weight)
    return loss


def total_loss(reco: torch.Tensor, adv: torch.Tensor, pred: torch.Tensor, alpha: float, beta: float,
               gamma: float) -> torch.Tensor:
    """Eq. 7: ``alpha L_reco + beta L_adv + gamma L_p``."""
    return alpha * reco + beta * adv + gamma * pred
