"""GDanceR training through the shared trainer (teacher forcing, the loss of :mod:`.losses`); the recipe (Adam, lr,
batch, steps, clipping) comes from the variant config."""
from __future__ import annotations

from typing import Any

from zoo.options import TrainOptions

from .losses import gdancer_loss
from .model import GDanceR


def recipe_of(cfg: Any) -> Any:
    """The trainer ``Recipe`` of a GDanceR config."""
    from zoo.engines.trainer import Recipe

    return Recipe(steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr, optimizer=cfg.optimizer,
                  weight_decay=cfg.weight_decay, grad_clip=cfg.grad_clip)


def train(model: GDanceR, data: Any, options: TrainOptions | None = None, callbacks: Any = ()) -> Any:
    """Train ``model`` in place on a dance dataset (items as in :mod:`zoo.data.synthetic.dance`)."""
    from zoo.engines.trainer import fit

    def loss_fn(m: Any, batch: dict[str, Any]) -> Any:
        net = m.module if hasattr(m, "module") else m  # DDP wrapper
        return gdancer_loss(net, batch)

    return fit(model, data, loss_fn, recipe_of(model.cfg), options or TrainOptions(), callbacks=list(callbacks))
