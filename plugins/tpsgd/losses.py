"""tpSGD's local losses: a hidden layer's output against its projected target; cross-entropy at the output."""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch.nn import functional as F

from zoo.engines.local_learning.forward_only import LocalLoss, RandomTargetProjection


def target_loss(output: torch.Tensor, target: torch.Tensor, kind: str = "l2", steps: str = "every"
                ) -> torch.Tensor:
    """``1/2 ||t - y||^2`` (l2: the delta rule) or ``||t - y||_1`` (l1: sign updates), summed over units and
    averaged over samples. A sequence output ``(B, T, H)`` is compared at its last step (``steps="last"``) or at
    every step (``"every"``, averaged) with the ``(B, H)`` target."""
    if output.dim() == 3 and target.dim() == 2:
        if steps == "last":
            output = output[:, -1]
        else:
            target = target[:, None, :].expand_as(output)
    diff = (target - output).flatten(2 if output.dim() == 3 else 1)
    per_sample = 0.5 * diff.pow(2).sum(-1) if kind == "l2" else diff.abs().sum(-1)
    return per_sample.mean()


def hidden_rule(projection: RandomTargetProjection, kind: str, steps: str = "every") -> LocalLoss:
    """The local rule of one hidden layer: its output against ``P onehot(label)``."""
    def loss(output: torch.Tensor, layer_input: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return target_loss(output, projection(labels), kind, steps)

    return LocalLoss(loss)


def output_rule() -> LocalLoss:
    """The output layer's rule: cross-entropy against the label."""
    loss: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor] = \
        lambda out, inp, labels: F.cross_entropy(out, labels)  # noqa: E731
    return LocalLoss(loss)
