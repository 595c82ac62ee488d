"""Input gradients of an attack objective, for any model that maps a batch to logits; logit ensembles.

The attacks never touch a model's parameters' ``.grad`` (they differentiate with :func:`torch.autograd.grad` with
respect to the input only) and never switch a model between train and eval mode: the caller decides (adversarial
training usually attacks in train mode, evaluation in eval mode).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from zoo.attacks.losses import AttackLoss
from zoo.errors import ConfigError

Model = Callable[[torch.Tensor], torch.Tensor]


def input_gradient(model: Model, x: torch.Tensor, labels: torch.Tensor, loss_fn: AttackLoss,
                   targeted: bool = False,
                   transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradient of the summed objective with respect to ``x``, and the per-sample objective values.

    ``transform`` (e.g. the diverse-input resize/pad) is applied inside the graph, so the gradient flows back
    through it to ``x``. ``targeted=True`` negates the objective (the attack then moves *towards* ``labels``).
    """
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        inputs = transform(x) if transform is not None else x
        values = loss_fn(model(inputs), labels)
        if targeted:
            values = -values
        (grad,) = torch.autograd.grad(values.sum(), x)
    return grad.detach(), values.detach()


class LogitEnsemble(nn.Module):
    """``l(x) = sum_i w_i l_i(x)``: the logit fusion of an ensemble attack (Eq. 13 of MAI-FGPLM, Dong et al.)."""

    def __init__(self, models: Sequence[nn.Module], weights: Sequence[float] | None = None) -> None:
        super().__init__()
        if not models:
            raise ConfigError("LogitEnsemble needs at least one model")
        weights = list(weights) if weights is not None else [1.0 / len(models)] * len(models)
        if len(weights) != len(models):
            raise ConfigError(f"LogitEnsemble got {len(models)} models but {len(weights)} weights")
        if any(w < 0 for w in weights) or abs(sum(weights) - 1.0) > 1e-6:
            raise ConfigError(f"ensemble weights must be >= 0 and sum to 1, got {weights}")
        self.members = nn.ModuleList(models)
        self.weights = tuple(float(w) for w in weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The weighted sum of the members' logits."""
        return sum(w * m(x) for w, m in zip(self.weights, self.members))  # type: ignore[return-value]
