"""Loss-weight schedules over the local modules of a network: lambda(r) = first (1 - r) + last r.

Two ways to place a module on the ``r`` axis appear in the reference codes:

- ``by="module"`` (InfoPro, AugLocal's baselines): ``r = k / (K - 2)`` for the ``K - 1`` modules that have an
  auxiliary network (k = 0 .. K-2), so the first module gets ``first`` and the last auxiliary module ``last``;
- ``by="stage"`` (MAN's code): ``r = s / (K - 2)`` where ``s`` (1, 2, 3 ...) is the network stage of the layer
  that follows the module's boundary. ``r`` stays far below 1 for every module, so a schedule ending at 0
  never switches a module's loss off.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from zoo.errors import ConfigError

PLACEMENTS: tuple[str, ...] = ("module", "stage", "constant")


@dataclass(frozen=True)
class LossWeightSchedule:
    """``first`` at r = 0, ``last`` at r = 1, linear in between; ``by`` places each module on ``r``."""

    first: float
    last: float
    by: str = "module"

    def __post_init__(self) -> None:
        if self.by not in PLACEMENTS:
            raise ConfigError(f"unknown loss-weight placement {self.by!r}; expected one of {PLACEMENTS}")

    def ratio(self, module: int, num_modules: int, stage: int = 0) -> float:
        """``r`` of local module ``module`` (0-based) out of ``num_modules`` (K), in network stage ``stage``."""
        if self.by == "constant" or num_modules <= 2:
            return 0.0
        position = module if self.by == "module" else stage
        return position / (num_modules - 2)

    def weight(self, module: int, num_modules: int, stage: int = 0) -> float:
        """lambda of that module."""
        r = self.ratio(module, num_modules, stage)
        return self.first * (1.0 - r) + self.last * r

    def weights(self, num_modules: int, stages: Sequence[int] | None = None) -> list[float]:
        """lambda of every module that has an auxiliary network (the first ``K - 1``)."""
        stages = list(stages) if stages is not None else [0] * (num_modules - 1)
        if len(stages) != num_modules - 1:
            raise ConfigError(f"{num_modules} modules need {num_modules - 1} stages, got {len(stages)}")
        return [self.weight(k, num_modules, stages[k]) for k in range(num_modules - 1)]
