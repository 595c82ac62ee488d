"""GDanceR training through the shared trainer (teacher forcing, the loss of :mod:`.losses`); the recipe (Adam, lr,
batch, steps, clipping) comes from the variant config. With ``scheduled_sampling > 0`` the probability of feeding
the model its own previous pose grows linearly with the step (:class:`SamplingSchedule`)."""
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


class SamplingSchedule:
    """Scheduled sampling's probability at the current step: ``p_max * min(1, step / (ramp * steps))``.

    A training callback: it follows the trainer's step (``on_train_start`` gives the step a resumed run starts
    from, ``on_step_end`` the steps done), so a resumed run continues the ramp where it stopped.
    """

    def __init__(self, p_max: float, ramp: float, steps: int) -> None:
        self.p_max, self.ramp, self.steps = p_max, ramp, max(1, steps)
        self.step = 0

    def probability(self) -> float:
        """The probability for the next step."""
        if self.p_max <= 0:
            return 0.0
        span = self.ramp * self.steps
        return self.p_max if span <= 0 else self.p_max * min(1.0, self.step / span)

    def on_train_start(self, state: dict[str, Any]) -> None:
        self.step = int(state.get("step", 0))

    def on_step_end(self, state: dict[str, Any]) -> None:
        self.step = int(state["step"])


def train(model: GDanceR, data: Any, options: TrainOptions | None = None, callbacks: Any = ()) -> Any:
    """Train ``model`` in place on a dance dataset (items as in :mod:`zoo.data.synthetic.dance`)."""
    from zoo.engines.trainer import fit

    options = options or TrainOptions()
    recipe = recipe_of(model.cfg)
    steps = int(options.steps if options.steps is not None else recipe.steps)
    schedule = SamplingSchedule(model.cfg.scheduled_sampling, model.cfg.scheduled_sampling_ramp, steps)

    def loss_fn(m: Any, batch: dict[str, Any]) -> Any:
        net = m.module if hasattr(m, "module") else m  # DDP wrapper
        p = schedule.probability()
        loss, logs = gdancer_loss(net, batch, sample_prob=p)
        if p > 0:
            logs["sample_prob"] = p
        return loss, logs

    return fit(model, data, loss_fn, recipe, options, callbacks=[*callbacks, schedule])
