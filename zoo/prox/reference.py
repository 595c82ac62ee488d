"""Brute-force proximal operators: the definition ``argmin_a objective(a, x)`` evaluated on a grid.

For testing closed forms (here and in plugins): ``grid_argmin(lambda a, x: soft_objective(a, x, 0.3), x, grid)``
returns, for every element of ``x``, the grid point of least objective and that objective value.
"""
from __future__ import annotations

from collections.abc import Callable

import torch


def grid_argmin(objective: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], x: torch.Tensor,
                grid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(argmin, min)`` of ``objective(a, x)`` over ``a`` in the 1-D ``grid``, elementwise over ``x``.

    ``objective`` receives ``a`` shaped ``[G, 1, ..., 1]`` and ``x`` shaped ``[1, *x.shape]`` and must broadcast.
    """
    a = grid.reshape(-1, *([1] * x.dim())).to(x.dtype)
    values = objective(a, x.unsqueeze(0))
    best, index = values.min(dim=0)
    return grid.to(x.dtype)[index], best
