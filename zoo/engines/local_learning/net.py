"""A network split into gradient-isolated local modules: layers, boundaries, auxiliary networks and a head."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import torch
from torch import nn

from zoo.errors import ConfigError


class AuxNet(Protocol):
    """A local objective: ``aux(h, x_in, target) -> (loss, logs)`` for a module's output ``h``.

    An auxiliary network may define ``after_backward()``: the engine calls it right after its module's local
    backward (MAN updates its momentum copy there, as its reference code does).
    """

    def __call__(self, h: torch.Tensor, x_in: Any, target: Any) -> tuple[torch.Tensor, dict[str, float]]: ...


def split_boundaries(num_layers: int, num_modules: int) -> tuple[int, ...]:
    """Evenly spread ``num_modules`` local modules over ``num_layers`` layers.

    Returns the (exclusive) end index of every module; the last one is ``num_layers``. With ``num_modules ==
    num_layers`` every layer is its own module; with 1 the whole network is one module (end-to-end BP).
    """
    if not 1 <= num_modules <= num_layers:
        raise ConfigError(f"number of local modules must be in [1, {num_layers}], got {num_modules}")
    return tuple(round(num_layers * (k + 1) / num_modules) for k in range(num_modules))


def call_layer(layer: nn.Module, h: Any, context: Sequence[Any]) -> Any:
    """``layer(h, *context)``: a multi-input layer (graph features + edges) gets the context after ``h``."""
    return layer(h, *context) if context else layer(h)


class LocalNet(nn.Module):
    """A layer sequence with local-module boundaries, auxiliary networks and a task head.

    Args:
        layers: the backbone's layers in order (the paper's "layers": stem and residual blocks). A layer may take
            extra inputs after the features (``layer(h, edge_index)``): pass them as ``context``.
        head: the task head applied after the last layer (pooling + classifier).
        boundaries: exclusive end index of each local module; the last must be ``len(layers)``.
        aux: one auxiliary network per module except the last (``len(boundaries) - 1``).
        loss_weights: optional factor on each auxiliary loss (e.g. ``LossWeightSchedule(...).weights(K, stages)``);
            default 1 for every module.
    """

    def __init__(self, layers: Sequence[nn.Module], head: nn.Module, boundaries: Sequence[int],
                 aux: Sequence[nn.Module], loss_weights: Sequence[float] | None = None) -> None:
        super().__init__()
        bounds = tuple(int(b) for b in boundaries)
        if not bounds or bounds[-1] != len(layers) or list(bounds) != sorted(set(bounds)) or bounds[0] < 1:
            raise ConfigError(f"boundaries {bounds} must increase strictly and end at {len(layers)} layers")
        if len(aux) != len(bounds) - 1:
            raise ConfigError(f"{len(bounds)} local modules need {len(bounds) - 1} auxiliary networks, got {len(aux)}")
        self.layers = nn.ModuleList(layers)
        self.head = head
        self.aux = nn.ModuleList(aux)
        self.boundaries = bounds
        weights = [1.0] * len(aux) if loss_weights is None else [float(w) for w in loss_weights]
        if len(weights) != len(aux):
            raise ConfigError(f"{len(aux)} auxiliary networks need {len(aux)} loss weights, got {len(weights)}")
        self.loss_weights = weights

    @property
    def num_modules(self) -> int:
        """K, the number of gradient-isolated modules."""
        return len(self.boundaries)

    def module_layers(self, k: int) -> list[nn.Module]:
        """The layers of local module ``k``."""
        start = 0 if k == 0 else self.boundaries[k - 1]
        return list(self.layers[start:self.boundaries[k]])

    def module_parameters(self, k: int) -> list[nn.Parameter]:
        """Trainable parameters of module ``k``: its layers plus its auxiliary network (the head for the last)."""
        params = [p for layer in self.module_layers(k) for p in layer.parameters()]
        params += list((self.aux[k] if k < self.num_modules - 1 else self.head).parameters())
        return [p for p in params if p.requires_grad]

    def features(self, x: Any, *context: Any) -> Any:
        """The backbone's output (every layer, no head)."""
        for layer in self.layers:
            x = call_layer(layer, x, context)
        return x

    def forward(self, x: Any, *context: Any) -> torch.Tensor:
        """Inference: the backbone and head; auxiliary networks are not used."""
        return self.head(self.features(x, *context))
