"""The paper's attacks by name (Table 1), as settings of the shared loops in :mod:`zoo.attacks`.

=================  =================================================================================
``ni-ti-di-mailm`` Algorithm 1: NI look-ahead, TI blur W, DI (p), mixed input (tau, V), PL squash, GR terms
``ti-di-mailm``    the same without NI
``mai-fgplm``      MAI-FGPLM alone (PL, GR, mixed input; no NI/TI/DI)
``ni-ti-di-aitm``  AI-FGTM (tanh, no GR, no mixing) with NI, TI (W), DI
``ti-di-aitm``     the same without NI
``ni-ti-dim``      MI-FGSM with NI, TI (15x15) and DI
``ti-dim``         the same without NI
=================  =================================================================================

``use_pl`` / ``use_gr`` / ``use_mix`` switch MAILM's three changes on top of AITM (the ablation of Table 2).
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

import zoo.attacks as attacks
from zoo_plugins.mai_fgplm.config import MAIConfig


def attack_settings(config: MAIConfig, name: str | None = None) -> tuple[str, dict[str, Any]]:
    """``(loop, kwargs)``: which shared loop (``adam`` or ``fgsm``) and its knobs for the attack ``name``."""
    name = name or config.attack
    nesterov = name.startswith("ni-")
    common = {"steps": config.steps, "nesterov": nesterov, "mu": config.mu}
    if name in ("ni-ti-dim", "ti-dim"):
        return "fgsm", {**common, "ti_kernel": config.dim_kernel, "di_prob": config.di_prob,
                        "di_resize_rate": config.di_resize_rate}
    mailm = name.endswith("mailm") or name == "mai-fgplm"
    pl = mailm and config.use_pl
    gr = mailm and config.use_gr
    mix = mailm and config.use_mix
    transfer = name != "mai-fgplm"
    return "adam", {
        **common, "mu1": config.mu1, "mu2": config.mu2, "lam": config.lam, "beta1": config.beta1,
        "beta2": config.beta2, "squash": "pl" if pl else "tanh", "rho": config.rho,
        "gamma1": config.gamma1 if gr else 0.0, "gamma2": config.gamma2 if gr else 0.0,
        "tau": config.tau if mix else 0.0, "mix_kernel": config.mix_kernel if mix else None,
        "ti_kernel": config.ti_kernel if transfer else None, "di_prob": config.di_prob if transfer else 0.0,
        "di_resize_rate": config.di_resize_rate,
    }


def run_attack(model: nn.Module, x: torch.Tensor, labels: torch.Tensor, config: MAIConfig,
               name: str | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """Adversarial examples of ``x`` against ``model`` (L-inf ``config.epsilon``, images in [0, 1])."""
    loop, kwargs = attack_settings(config, name)
    if loop == "fgsm":
        return attacks.iterative_fgsm(model, x, labels, config.epsilon, generator=generator, **kwargs)
    return attacks.adam_fgm(model, x, labels, config.epsilon, generator=generator, **kwargs)
