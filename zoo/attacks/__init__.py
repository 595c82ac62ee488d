"""Adversarial attacks shared by the zoo's training recipes, defences and evaluations.

Every attack is a function ``attack(model, x, labels, eps, **knobs) -> x_adv``: batched, model-agnostic (``model``
is any callable mapping a batch to logits), with per-sample budgets allowed (``eps`` a float or a ``[B]``
tensor), and it never touches the model's parameter gradients or train/eval mode.

=================  ==========================================================================================
``fgsm``           FGSM (Goodfellow et al.); ``rand_init=True`` gives FAST-FGSM (Wong et al.)
``pgd``            PGD-K-N (Madry et al.), L-inf or L2, random start, restarts
``i_fgsm``         I-FGSM / BIM (Kurakin et al.)
``mi_fgsm``        MI-FGSM (Dong et al. 2018)
``ni_fgsm``        NI-FGSM (Lin et al. 2020)
``ti_fgsm``        TI2-FGSM (Dong et al. 2019)
``di_fgsm``        DI2-FGSM (Xie et al. 2019)
``iterative_fgsm`` the shared loop: combine MI/NI/TI/DI freely (TI-DIM, NI-TI-DIM, ...)
``ai_fgtm``        AI-FGTM (Zou et al. 2020): Adam moments, tanh, increasing steps
``mai_fgplm``      MAI-FGPLM (Zhang et al., PRCV 2021): piecewise-linear squash, gradient regulariser, mixed input
``adam_fgm``       the shared Adam-style loop (NI-TI-DI-MAILM is one setting of it)
``patch_attack``   localised patch optimisation of any objective (vanishing patches for detectors)
=================  ==========================================================================================

Building blocks: :mod:`zoo.attacks.norms` (projection, clipping, random starts), :mod:`zoo.attacks.losses` (CE,
CW margin), :mod:`zoo.attacks.transforms` (Gaussian kernels, blur, diverse inputs), :mod:`zoo.attacks.metrics`
(ASR, APS, robust accuracy), :class:`zoo.attacks.gradient.LogitEnsemble` (ensemble logit fusion).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zoo.attacks.adam import adam_fgm, ai_fgtm, increasing_step_sizes, mai_fgplm, mixed_input, piecewise_linear
from zoo.attacks.fgsm import fgsm
from zoo.attacks.gradient import LogitEnsemble, input_gradient
from zoo.attacks.iterative import di_fgsm, i_fgsm, iterative_fgsm, mi_fgsm, ni_fgsm, ti_fgsm
from zoo.attacks.losses import cross_entropy, cw_margin
from zoo.attacks.metrics import attack_success_rate, average_perturbation_size, robust_accuracy
from zoo.attacks.norms import clip_eps, project, random_start
from zoo.attacks.patch import apply_patch, decaying_steps, patch_attack
from zoo.attacks.pgd import pgd
from zoo.attacks.transforms import blur, diverse_input, gaussian_kernel
from zoo.errors import ConfigError

#: Attacks by name (``zoo.attacks.get("pgd")``); every one has the signature ``(model, x, labels, eps, **kw)``.
ATTACKS: dict[str, Callable[..., Any]] = {
    "fgsm": fgsm, "pgd": pgd, "i_fgsm": i_fgsm, "mi_fgsm": mi_fgsm, "ni_fgsm": ni_fgsm, "ti_fgsm": ti_fgsm,
    "di_fgsm": di_fgsm, "iterative_fgsm": iterative_fgsm, "ai_fgtm": ai_fgtm, "mai_fgplm": mai_fgplm,
    "adam_fgm": adam_fgm,
}


def get(name: str) -> Callable[..., Any]:
    """The attack called ``name`` (see :data:`ATTACKS`)."""
    try:
        return ATTACKS[name]
    except KeyError:
        raise ConfigError(f"unknown attack {name!r}; expected one of {', '.join(sorted(ATTACKS))}") from None


__all__ = [
    "ATTACKS", "LogitEnsemble", "adam_fgm", "ai_fgtm", "apply_patch", "attack_success_rate",
    "average_perturbation_size", "blur", "clip_eps", "cross_entropy", "cw_margin", "decaying_steps", "di_fgsm",
    "diverse_input", "fgsm", "gaussian_kernel", "get", "i_fgsm", "increasing_step_sizes", "input_gradient",
    "iterative_fgsm", "mai_fgplm", "mi_fgsm", "mixed_input", "ni_fgsm", "patch_attack", "pgd", "piecewise_linear",
    "project", "random_start", "robust_accuracy", "ti_fgsm",
]
