"""The iterative fast-gradient family: I-FGSM, MI-FGSM, NI-FGSM, TI-FGSM, DI-FGSM and their combinations.

One loop, :func:`iterative_fgsm`, with a knob per paper (equation numbers of MAI-FGPLM, Sect. 2.2)::

    x_nes_t   = x_t + alpha * mu * g_t                          (NI, Eq. 6; only when nesterov=True)
    grad      = W * grad_x J(D(x_nes_t; p), y)                  (DI, Eq. 9: D with probability p; TI: blur by W)
    g_{t+1}   = mu * g_t + grad / mean|grad|                    (MI, Eq. 4/7)
    x_{t+1}   = Clip^eps_x{ x_t + alpha * sign(g_{t+1}) }       (Eq. 5/8)

``mu = 0`` without TI/DI is I-FGSM (Eq. 3). The gradient is divided by its per-sample *mean* absolute value, i.e.
the L1 norm of Eq. 4 divided by the number of pixels, as the public MI/NI code does: the sign step is the same,
and NI's look-ahead ``alpha * mu * g_t`` then has a per-pixel size of order ``alpha`` (with the literal L1 norm it
would vanish on large images). The named wrappers fix the knobs of each paper; combine them through
:func:`iterative_fgsm` (e.g. NI-TI-DIM: ``mu=1, nesterov=True, ti_kernel=15, di_prob=p``).
"""
from __future__ import annotations

from typing import Any

import torch

from zoo.attacks.gradient import Model, input_gradient
from zoo.attacks.losses import AttackLoss, get_loss
from zoo.attacks.norms import Budget, ascent_direction, clip_eps, lp_norm, per_sample
from zoo.attacks.transforms import blur, diverse_input, gaussian_kernel
from zoo.errors import ConfigError


def mean_abs_normalize(grad: torch.Tensor) -> torch.Tensor:
    """``grad / mean(|grad|)`` per sample (the L1 normalisation of MI-FGSM, scaled by the pixel count)."""
    scale = (lp_norm(grad, "l1") / grad[0].numel()).clamp_min(1e-12)
    return grad / scale.view(-1, *([1] * (grad.dim() - 1)))


def resolve_kernel(kernel: int | torch.Tensor | None) -> torch.Tensor | None:
    """A TI/mixing kernel given as an odd size (Gaussian, +-3 sigma) or as a 2-D tensor; ``None`` = none."""
    if kernel is None:
        return None
    if isinstance(kernel, int):
        return gaussian_kernel(kernel)
    if kernel.dim() != 2:
        raise ConfigError(f"a TI kernel must be 2-D, got shape {tuple(kernel.shape)}")
    return kernel


def iterative_fgsm(model: Model, x: torch.Tensor, labels: torch.Tensor, eps: Budget, *, steps: int = 10,
                   alpha: Budget | None = None, mu: float = 0.0, nesterov: bool = False,
                   ti_kernel: int | torch.Tensor | None = None, di_prob: float = 0.0, di_resize_rate: float = 1.1,
                   norm: str = "linf", loss: str | AttackLoss = "ce", targeted: bool = False,
                   bounds: tuple[float, float] | None = (0.0, 1.0),
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """The shared loop of the FGSM family (see the module docstring); ``alpha`` defaults to ``eps / steps``."""
    if steps < 1:
        raise ConfigError(f"iterative attacks need steps >= 1, got {steps}")
    objective = get_loss(loss)
    step = per_sample(alpha if alpha is not None else eps / steps, x)
    kernel = resolve_kernel(ti_kernel)
    transform = None
    if di_prob > 0:
        def transform(t: torch.Tensor) -> torch.Tensor:
            return diverse_input(t, di_prob, di_resize_rate, generator=generator)
    g = torch.zeros_like(x)
    x_adv = x.detach().clone()
    for _ in range(steps):
        probe = x_adv + step * mu * g if nesterov else x_adv
        grad, _ = input_gradient(model, probe, labels, objective, targeted, transform)
        if kernel is not None:
            grad = blur(grad, kernel)
        g = mu * g + mean_abs_normalize(grad)
        x_adv = clip_eps(x_adv + step * ascent_direction(g, norm), x, eps, norm, bounds)
    return x_adv.detach()


def i_fgsm(model: Model, x: torch.Tensor, labels: torch.Tensor, eps: Budget, **kw: Any) -> torch.Tensor:
    """I-FGSM / BIM (Kurakin et al., Eq. 3): ``x_{t+1} = Clip(x_t + alpha * sign(grad))``."""
    return iterative_fgsm(model, x, labels, eps, **{"mu": 0.0, **kw})


def mi_fgsm(model: Model, x: torch.Tensor, labels: torch.Tensor, eps: Budget, **kw: Any) -> torch.Tensor:
    """MI-FGSM (Dong et al. 2018, Eq. 4-5): momentum ``mu = 1.0`` on the L1-normalised gradient."""
    return iterative_fgsm(model, x, labels, eps, **{"mu": 1.0, **kw})


def ni_fgsm(model: Model, x: torch.Tensor, labels: torch.Tensor, eps: Budget, **kw: Any) -> torch.Tensor:
    """NI-FGSM (Lin et al. 2020, Eq. 6-8): MI-FGSM with the gradient taken at the Nesterov look-ahead point."""
    return iterative_fgsm(model, x, labels, eps, **{"mu": 1.0, "nesterov": True, **kw})


def ti_fgsm(model: Model, x: torch.Tensor, labels: torch.Tensor, eps: Budget, **kw: Any) -> torch.Tensor:
    """TI2-FGSM (Dong et al. 2019): the gradient is convolved with a Gaussian kernel ``W`` (15x15 by default)."""
    return iterative_fgsm(model, x, labels, eps, **{"ti_kernel": 15, **kw})


def di_fgsm(model: Model, x: torch.Tensor, labels: torch.Tensor, eps: Budget, **kw: Any) -> torch.Tensor:
    """DI2-FGSM (Xie et al. 2019, Eq. 9): gradients of randomly resized-and-padded inputs (``p = 0.5``)."""
    return iterative_fgsm(model, x, labels, eps, **{"di_prob": 0.5, **kw})
