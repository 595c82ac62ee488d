"""The FGSMPR objective (Algorithm 1) and the baselines' adversarial-training objectives.

FGSMPR, for a batch (x, y)::

    x_fgsm   = Clip(x + eps * sign(grad_x CE(f(x), y)))                  (Eq. 2; ``fgsm_step="alpha"``: alpha)
    fgsm     = CE(f(x_fgsm), y)
    x_pgd_j  = PGD-K(x_j), j in a pick of m examples, step alpha = eps/K   (Algorithm 1 lines 7-11)
    reg      = lambda * 1/m * sum_j || f(x_fgsm_j) - f(x_pgd_j) ||_2       (Eq. 5, the L2 norm, not squared)
    loss     = fgsm + reg

The adversarial examples are constants (detached); the gradient of ``reg`` flows through both logits. The picked
examples' FGSM and PGD images go through the network in one forward pass (identical for networks without batch
norm; for batch-norm networks it keeps a single image from forming its own normalisation batch).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

import zoo.attacks as attacks
from zoo_plugins.fgsmpr_at.config import FGSMPRConfig


def logit_pairing(logits_a: torch.Tensor, logits_b: torch.Tensor) -> torch.Tensor:
    """``1/m sum_j ||a_j - b_j||_2`` over the m rows (the PGD regulariser of Eq. 5 before lambda)."""
    return (logits_a - logits_b).norm(p=2, dim=1).mean()


def pick_examples(batch: int, m: int, how: str) -> torch.Tensor:
    """Indices of the m examples that get a PGD example (``random``: a draw from the global RNG)."""
    if how == "first":
        return torch.arange(m)
    return torch.randperm(batch)[:m]


def fgsm_example(model: nn.Module, x: torch.Tensor, y: torch.Tensor, config: FGSMPRConfig) -> torch.Tensor:
    """FGSMPR's single-step example (step eps, or alpha with ``fgsm_step="alpha"``), no random start."""
    step = config.epsilon if config.fgsm_step == "epsilon" else config.pgd_alpha
    return attacks.fgsm(model, x, y, config.epsilon, alpha=step)


def pgd_example(model: nn.Module, x: torch.Tensor, y: torch.Tensor, config: FGSMPRConfig) -> torch.Tensor:
    """The regulariser's PGD-K example (step alpha = eps/K, start at x or uniform in the ball)."""
    return attacks.pgd(model, x, y, config.epsilon, config.pgd_alpha, config.pgd_steps,
                       rand_init=config.pgd_init == "random")


def fgsmpr_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                config: FGSMPRConfig) -> tuple[torch.Tensor, dict[str, float]]:
    """FGSMPR's total loss for one batch and its parts (``fgsm_loss``, ``reg_loss``, ``logit_gap``)."""
    x_fgsm = fgsm_example(model, x, y, config)
    idx = pick_examples(x.shape[0], config.m, config.pgd_pick)
    x_pgd = pgd_example(model, x[idx], y[idx], config)
    logits = model(torch.cat([x_fgsm, x_pgd]))
    logits_fgsm, logits_pgd = logits[: x.shape[0]], logits[x.shape[0]:]
    fgsm = F.cross_entropy(logits_fgsm, y)
    gap = logit_pairing(logits_fgsm[idx], logits_pgd)
    loss = fgsm + config.lam * gap
    return loss, {"fgsm_loss": float(fgsm.detach()), "reg_loss": float(config.lam * gap.detach()),
                  "logit_gap": float(gap.detach())}


def baseline_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                  config: FGSMPRConfig) -> tuple[torch.Tensor, dict[str, float]]:
    """The comparison methods on the same network: FGSM AT, FAST-FGSM AT, PGD AT and standard training."""
    if config.mode == "fgsm":
        x_adv = attacks.fgsm(model, x, y, config.epsilon)
    elif config.mode == "fast_fgsm":
        x_adv = attacks.fgsm(model, x, y, config.epsilon, alpha=1.25 * config.epsilon, rand_init=True)
    elif config.mode == "pgd":
        x_adv = attacks.pgd(model, x, y, config.epsilon, config.train_pgd_alpha, config.train_pgd_steps)
    else:
        x_adv = x
    loss = F.cross_entropy(model(x_adv), y)
    return loss, {"adv_loss": float(loss.detach())}


def training_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                  config: FGSMPRConfig) -> tuple[torch.Tensor, dict[str, float]]:
    """The loss of ``config.mode`` (FGSMPR or a baseline)."""
    if config.mode == "fgsmpr":
        return fgsmpr_loss(model, x, y, config)
    return baseline_loss(model, x, y, config)
