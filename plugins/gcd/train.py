"""GCD training through the shared trainer: the denoiser and the contrastive encoder are optimised jointly on one
loss (spec §1.5). The recipe (Adam, lr, batch, steps, clipping, EMA) comes from the variant config.

``batch_size`` is per device. The paper trains 64 per GPU on 4 GPUs (``cfg.devices = 4``, 256 per step); the
shared trainer runs unchanged under ``torchrun`` and gives every process ``batch_size`` samples of each global
batch, so ``torchrun --nproc_per_node 4 -m zoo train gcd --variant paper ...`` is the paper's recipe. A run with
another number of processes trains with ``world_size * batch_size`` per step and says so.
"""
from __future__ import annotations

import warnings
from typing import Any

from zoo import constants
from zoo.options import TrainOptions

from .config import global_batch
from .losses import gcd_loss
from .model import GCD


class DeviceCountWarning(UserWarning):
    """The run's number of processes differs from the variant's ``devices`` (the global batch differs)."""


def recipe_of(cfg: Any) -> Any:
    """The trainer ``Recipe`` of a GCD config (``batch_size`` per process)."""
    from zoo.engines.trainer import Recipe

    return Recipe(steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr, optimizer=cfg.optimizer,
                  weight_decay=cfg.weight_decay, grad_clip=cfg.grad_clip, ema_decay=cfg.ema_decay)


def check_world_size(cfg: Any, world_size: int) -> None:
    """Warn when ``world_size`` processes will not give the variant's global batch ``devices * batch_size``."""
    if world_size != cfg.devices:
        warnings.warn(f"gcd: this variant trains {cfg.batch_size} per device on {cfg.devices} device(s) "
                      f"({global_batch(cfg)} per step); this run has {world_size} process(es), i.e. "
                      f"{world_size * cfg.batch_size} per step. Launch with `torchrun --nproc_per_node "
                      f"{cfg.devices} -m zoo train ...` for the paper's batch.", DeviceCountWarning, stacklevel=3)


def train(model: GCD, data: Any, options: TrainOptions | None = None, callbacks: Any = ()) -> Any:
    """Train ``model`` in place on a dance dataset (items as in :mod:`zoo.data.synthetic.dance`)."""
    from zoo.engines.trainer import fit

    check_world_size(model.cfg, constants.dist_world_size())
    diffusion = model.diffusion()

    def loss_fn(m: Any, batch: dict[str, Any]) -> Any:
        net = m.module if hasattr(m, "module") else m  # DDP wrapper
        return gcd_loss(net, batch, diffusion)

    return fit(model, data, loss_fn, recipe_of(model.cfg), options or TrainOptions(), callbacks=list(callbacks))
