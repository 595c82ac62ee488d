"""Proximal (thresholding) operators for sparse coding and unrolled optimisation.

Each operator comes with the penalty it is the proximal map of and the prox objective ``1/2 (a - x)^2 + penalty``
it minimises, so a closed form can always be checked against its definition (:mod:`zoo.prox.reference`).

====================  ===============================================  =============================================
operator              prox of                                          used by
====================  ===============================================  =============================================
``soft_threshold``    ``theta |a|``                                    ISTA, LISTA (``h_theta``), LISTA-MSN (``h_eps``)
``hard_threshold``    ``(theta^2/2) [a != 0]``                         iterative hard thresholding
``log_threshold``     ``lam log(1 + |a|/eps)`` (paper's closed form)   LOG-PBCD Eq. 17
``prox_log``          ``lam log(1 + |a|/eps)`` (exact global minimum)  LOG-PBCD, where exactness matters
``relu_prox``         ``argmin_z 1/2 (a - relu z)^2 + eta/2 (z - s)^2``  three-splitting BCD, LOG-PBCD Eq. 13
====================  ===============================================  =============================================

All operators are elementwise, batched over any shape, with parameters that broadcast (floats or tensors).
:mod:`zoo.prox.lasso` has the iterative LASSO solvers built on them (ISTA, FISTA), the baselines and target
generators of learned sparse coding.
"""
from __future__ import annotations

from zoo.prox.hard import hard_objective, hard_threshold, l0_penalty
from zoo.prox.lasso import fista, ista, lasso_cost, lipschitz
from zoo.prox.log import log_objective, log_penalty, log_threshold, prox_log
from zoo.prox.reference import grid_argmin
from zoo.prox.relu import relu_objective, relu_prox, relu_prox_exact
from zoo.prox.soft import l1_penalty, soft_objective, soft_threshold

__all__ = [
    "fista", "grid_argmin", "hard_objective", "hard_threshold", "ista", "l0_penalty", "l1_penalty", "lasso_cost",
    "lipschitz", "log_objective", "log_penalty", "log_threshold", "prox_log", "relu_objective", "relu_prox",
    "relu_prox_exact", "soft_objective", "soft_threshold",
]
