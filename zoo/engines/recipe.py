"""What the trainer is asked to do and what it hands back: :class:`Recipe`, :class:`TrainResult`, and the
recipe's small helpers (optimizer, seeding, the determinism switch)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from zoo.engines.schedules import SCHEDULES
from zoo.errors import ConfigError, TrainingError

OPTIMIZERS: tuple[str, ...] = ("adamw", "adam", "sgd")


@dataclass(frozen=True)
class Recipe:
    """How to optimise: length, batch, optimizer, schedule and the numerical switches.

    ``steps`` counts optimizer steps; ``batch_size`` is per process. ``milestones`` are absolute steps for the
    ``step`` schedule. ``amp`` enables autocast on CUDA only (ignored on CPU). ``deterministic`` asks torch
    for deterministic kernels (and disables cuDNN autotuning) for the duration of the run.
    """

    steps: int
    batch_size: int
    lr: float
    optimizer: str = "adamw"
    weight_decay: float = 0.0
    momentum: float = 0.9
    schedule: str = "constant"
    warmup_steps: int = 0
    milestones: tuple[int, ...] = ()
    gamma: float = 0.1
    grad_clip: float | None = None
    ema_decay: float | None = None
    amp: bool = False
    betas: tuple[float, float] = (0.9, 0.999)
    min_lr_ratio: float = 0.0
    deterministic: bool = False
    shuffle: bool = True
    keep_checkpoints: int = 2
    ddp_find_unused_parameters: bool = False

    def __post_init__(self) -> None:
        if self.steps < 0 or self.batch_size < 1:
            raise ConfigError(
                f"recipe needs steps >= 0 and batch_size >= 1, got {self.steps} and {self.batch_size}"
            )
        if self.lr < 0:
            raise ConfigError(f"recipe lr must be >= 0, got {self.lr}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(
                f"unknown optimizer {self.optimizer!r}; expected one of {', '.join(OPTIMIZERS)}"
            )
        if self.schedule not in SCHEDULES:
            raise ConfigError(
                f"unknown LR schedule {self.schedule!r}; expected one of {', '.join(SCHEDULES)}"
            )
        if self.grad_clip is not None and self.grad_clip <= 0:
            raise ConfigError(f"grad_clip must be positive or None, got {self.grad_clip}")
        if self.ema_decay is not None and not 0.0 <= self.ema_decay < 1.0:
            raise ConfigError(f"ema_decay must be in [0, 1) or None, got {self.ema_decay}")

    def to_json(self) -> dict[str, Any]:
        """The recipe as plain JSON values (recorded with checkpoints)."""
        return json.loads(json.dumps(asdict(self)))


@dataclass
class TrainResult:
    """What training produced: per-step history, final metrics, the step reached and the output folder."""

    history: dict[str, list[float]]
    metrics: dict[str, float]
    steps: int
    out_dir: Path | None = None
    checkpoint: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        """Dict-style access (``result["history"]``) for code written against plain-dict results."""
        return getattr(self, key)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices)."""
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


@contextlib.contextmanager
def determinism(enabled: bool) -> Iterator[None]:
    """Ask torch for deterministic algorithms inside the block (restored afterwards)."""
    if not enabled:
        yield
        return
    previous = (
        torch.are_deterministic_algorithms_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
    )
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0])
        torch.backends.cudnn.deterministic = previous[1]
        torch.backends.cudnn.benchmark = previous[2]


def build_optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    """The recipe's optimizer over the trainable parameters of ``model``."""
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise TrainingError("the model has no trainable parameters")
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=recipe.lr, momentum=recipe.momentum, weight_decay=recipe.weight_decay
        )
    cls = torch.optim.AdamW if recipe.optimizer == "adamw" else torch.optim.Adam
    return cls(params, lr=recipe.lr, betas=recipe.betas, weight_decay=recipe.weight_decay)
