"""GCD training through the shared trainer: the denoiser and the contrastive encoder are optimised jointly on one
loss (spec §1.5). The recipe (Adam, lr, batch, steps, clipping, EMA) comes from the variant config."""
from __future__ import annotations

from typing import Any

from zoo.options import TrainOptions

from .losses import gcd_loss
from .model import GCD


def recipe_of(cfg: Any) -> Any:
    """The trainer ``Recipe`` of a GCD config."""
    from zoo.engines.trainer import Recipe

    return Recipe(steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr, optimizer=cfg.optimizer,
                  weight_decay=cfg.weight_decay, grad_clip=cfg.grad_clip, ema_decay=cfg.ema_decay)


def train(model: GCD, data: Any, options: TrainOptions | None = None, callbacks: Any = ()) -> Any:
    """Train ``model`` in place on a dance dataset (items as in :mod:`zoo.data.synthetic.dance`)."""
    from zoo.engines.trainer import fit

    diffusion = model.diffusion()

    def loss_fn(m: Any, batch: dict[str, Any]) -> Any:
        net = m.module if hasattr(m, "module") else m  # DDP wrapper
        return gcd_loss(net, batch, diffusion)

    return fit(model, data, loss_fn, recipe_of(model.cfg), options or TrainOptions(), callbacks=list(callbacks))
