"""Adam-style iterative attacks: AI-FGTM (Zou et al. 2020) and MAI-FGPLM (Zhang et al., PRCV 2021).

One loop, :func:`adam_fgm`, with the knobs of both papers (equations of MAI-FGPLM, Algorithm 1)::

    x_nes_t = x_t + alpha_t * mu * s_t                 (NI look-ahead along the previous step s_t; nesterov=True)
    x_mix_t = tau * (V * x_nes_t) + (1 - tau) * x_nes_t          (mixed input, Eq. 19; tau = 0 disables it)
    g       = grad_{x_mix} J(D(x_mix_t; p), y)                   (DI inside the graph, gradient w.r.t. x_mix)
    m_{t+1} = m_t + mu1 * (W * g) + gamma1 * g                   (Eq. 17; TI blur W, regulariser gamma1)
    v_{t+1} = v_t + mu2 * (W * g)^2 + gamma2 * g^2               (Eq. 18)
    s_{t+1} = squash(lambda * m_{t+1} / (sqrt(v_{t+1}) + r))     (tanh: AI-FGTM Eq. 12; PL: Eq. 14-15)
    x_{t+1} = Clip^eps_x{ x_t + alpha_t * s_{t+1} }

with the increasing step sizes of AI-FGTM, ``alpha_t = eps * c_t / sum_j c_j``, ``c_t = (1 - beta1^(t+1)) /
sqrt(1 - beta2^(t+1))`` (``beta1 = 0.9``, ``beta2 = 0.99``), so the steps sum to ``eps``. Without TI ``W * g = g``.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch

from zoo.attacks.gradient import Model, input_gradient
from zoo.attacks.iterative import resolve_kernel
from zoo.attacks.losses import AttackLoss, get_loss
from zoo.attacks.norms import clip_eps
from zoo.attacks.transforms import blur, diverse_input
from zoo.errors import ConfigError

SQUASHES: tuple[str, ...] = ("tanh", "pl", "sign")


def piecewise_linear(z: torch.Tensor, rho: float = 0.5, cap: float = 3.0) -> torch.Tensor:
    """``PL(z) = rho * z`` where ``|z| < cap``, ``+1`` where ``z >= cap``, ``-1`` where ``z <= -cap`` (Eq. 15)."""
    return torch.where(z.abs() < cap, rho * z, z.sign())


def increasing_step_sizes(eps: float, steps: int, beta1: float = 0.9, beta2: float = 0.99) -> list[float]:
    """AI-FGTM's step sizes ``alpha_t`` (t = 0..steps-1): increasing, summing to ``eps``."""
    if steps < 1:
        raise ConfigError(f"steps must be >= 1, got {steps}")
    if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
        raise ConfigError(f"beta1 and beta2 must be in [0, 1), got {beta1}, {beta2}")
    c = [(1 - beta1 ** (t + 1)) / math.sqrt(1 - beta2 ** (t + 1)) for t in range(steps)]
    total = sum(c)
    return [eps * ct / total for ct in c]


def mixed_input(x: torch.Tensor, kernel: torch.Tensor, tau: float) -> torch.Tensor:
    """``x_mix = tau * (V * x) + (1 - tau) * x`` (Eq. 19): the input mixed with its Gaussian-blurred copy."""
    return tau * blur(x, kernel) + (1 - tau) * x


def _squash(kind: str, rho: float) -> Callable[[torch.Tensor], torch.Tensor]:
    if kind == "tanh":
        return torch.tanh
    if kind == "pl":
        return lambda z: piecewise_linear(z, rho)
    if kind == "sign":
        return torch.sign
    raise ConfigError(f"unknown squash {kind!r}; expected one of {', '.join(SQUASHES)}")


def adam_fgm(model: Model, x: torch.Tensor, labels: torch.Tensor, eps: float, *, steps: int = 10,
             mu1: float = 1.5, mu2: float = 1.9, lam: float = 1.3, beta1: float = 0.9, beta2: float = 0.99,
             r: float = 1e-8, squash: str = "tanh", rho: float = 0.5, gamma1: float = 0.0, gamma2: float = 0.0,
             ti_kernel: int | torch.Tensor | None = None, mix_kernel: int | torch.Tensor | None = None,
             tau: float = 0.0, nesterov: bool = False, mu: float = 1.0, di_prob: float = 0.0,
             di_resize_rate: float = 1.1, loss: str | AttackLoss = "ce", targeted: bool = False,
             bounds: tuple[float, float] | None = (0.0, 1.0),
             generator: torch.Generator | None = None) -> torch.Tensor:
    """The shared Adam-style loop (module docstring); L-inf threat model, ``eps`` in the units of ``x``."""
    if not 0.0 <= tau <= 1.0:
        raise ConfigError(f"tau must be in [0, 1], got {tau}")
    objective = get_loss(loss)
    alphas = increasing_step_sizes(eps, steps, beta1, beta2)
    w = resolve_kernel(ti_kernel)
    v_kernel = resolve_kernel(mix_kernel)
    if tau > 0 and v_kernel is None:
        raise ConfigError("the mixed input (tau > 0) needs a mix_kernel V")
    squash_fn = _squash(squash, rho)
    transform = None
    if di_prob > 0:
        def transform(t: torch.Tensor) -> torch.Tensor:
            return diverse_input(t, di_prob, di_resize_rate, generator=generator)
    m = torch.zeros_like(x)
    v = torch.zeros_like(x)
    s = torch.zeros_like(x)
    x_adv = x.detach().clone()
    for t in range(steps):
        probe = x_adv + alphas[t] * mu * s if nesterov else x_adv
        if tau > 0:
            assert v_kernel is not None
            probe = mixed_input(probe, v_kernel, tau)
        g, _ = input_gradient(model, probe, labels, objective, targeted, transform)
        wg = blur(g, w) if w is not None else g
        m = m + mu1 * wg + gamma1 * g
        v = v + mu2 * wg**2 + gamma2 * g**2
        s = squash_fn(lam * m / (v.sqrt() + r))
        x_adv = clip_eps(x_adv + alphas[t] * s, x, eps, "linf", bounds)
    return x_adv.detach()


def ai_fgtm(model: Model, x: torch.Tensor, labels: torch.Tensor, eps: float, **kw: object) -> torch.Tensor:
    """AI-FGTM (Eq. 10-12): Adam moments (``mu1 = 1.5``, ``mu2 = 1.9``), ``tanh`` squash, ``lambda = 1.3``."""
    return adam_fgm(model, x, labels, eps, **{"squash": "tanh", **kw})  # type: ignore[arg-type]


def mai_fgplm(model: Model, x: torch.Tensor, labels: torch.Tensor, eps: float, **kw: object) -> torch.Tensor:
    """MAI-FGPLM (Sect. 3): PL squash (``rho = 0.5``), gradient regulariser (``gamma1 = gamma2 = 0.12``) and
    mixed input (``tau = 0.5``, ``V`` 9x9). TI (``ti_kernel``), DI (``di_prob``) and NI (``nesterov``) are off
    unless given; NI-TI-DI-MAILM (Algorithm 1) is ``nesterov=True, ti_kernel=9, di_prob=1.0``."""
    defaults: dict[str, object] = {"squash": "pl", "rho": 0.5, "gamma1": 0.12, "gamma2": 0.12, "tau": 0.5,
                                   "mix_kernel": 9}
    return adam_fgm(model, x, labels, eps, **{**defaults, **kw})  # type: ignore[arg-type]
