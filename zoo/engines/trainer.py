"""The shared trainer: one loop that every plugin's ``zoo_train`` hook can hand its model, data and loss to.

::

    from zoo.engines.trainer import Recipe, fit
    recipe = Recipe(steps=200, batch_size=32, lr=1e-3, schedule="cosine", warmup_steps=20, grad_clip=1.0)
    result = fit(model, dataset, loss_fn, recipe, options)      # options: zoo.options.TrainOptions

What it does for you:

- **data order**: the batch of step ``s`` is drawn from a generator seeded by ``(seed, s)``
  (:mod:`zoo.engines.sampling`), so a resumed run sees the same batches;
- **checkpoints** every ``options.checkpoint_every`` steps and at the end (weights as safetensors, optimizer,
  scheduler, grad scaler, EMA, RNG states, step, history), written atomically under ``out_dir/checkpoints``;
  ``options.resume`` continues from the newest one. On CPU, N steps in one go and N/2 + resume + N/2 give
  bitwise-identical weights;
- **seeding** (``options.seed``: Python, NumPy, torch), a **determinism** switch (``Recipe.deterministic``);
- **gradient clipping** (global norm), **mixed precision** (``Recipe.amp``: autocast only on CUDA; bf16 where
  supported, else fp16 with a grad scaler), a **NaN/Inf check** of every loss, **EMA** of the weights
  (``Recipe.ema_decay``; evaluation and the final weights use the average), **LR schedules** (constant, cosine
  or step, with linear warm-up);
- **callbacks**: plain callables ``cb(event, state)`` (or objects with ``on_<event>`` methods) passed in
  ``callbacks``, and the pluggy hook ``zoo_train_event(event, state)`` fired on every registered plugin.
  Events: ``on_train_start``, ``on_step_end``, ``on_eval_end``, ``on_checkpoint``, ``on_train_end``;
- **outputs** in ``options.out_dir``: ``history.json``, ``curves.png``, ``model.safetensors`` (final weights),
  ``checkpoints/``;
- **DDP**: under ``torchrun`` (``WORLD_SIZE`` > 1) the model is wrapped in DistributedDataParallel, each rank
  takes its share of every global batch, and only rank 0 writes or shows progress
  (:mod:`zoo.engines.distributed`).

How a step is computed, in order of preference:

- ``loss_fn(model, batch)`` returns a loss tensor or ``(loss, {name: float})``; the trainer does the rest.
- ``backward_fn(model, batch, tools)`` for steps with several backward passes (local learning) or several
  optimizers: it calls ``tools.backward(loss)`` per loss and optionally ``tools.step(optimizer)``
  (:class:`zoo.engines.steps.StepTools`), so the NaN check, mixed precision and clipping still apply; it
  returns ``{name: float}`` (include ``"loss"``).
- ``step_fn(model, batch, optimizer)`` replaces the whole update and returns ``{name: float}``; only its
  returned ``"loss"`` is checked (no mixed precision, no clipping).

``eval_fn(model)`` returns ``{metric: float}``.

The parts: :mod:`zoo.engines.recipe` (what to do), :mod:`zoo.engines.loop` (the loop), :mod:`zoo.engines.steps`
(one step's numerics), :mod:`zoo.engines.events` (callbacks and progress), :mod:`zoo.engines.batches` (batches).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from zoo.engines import distributed
from zoo.engines.batches import as_dataset, batch_size_of, fetch_batch, move_to, split_loss
from zoo.engines.events import EVENTS, StopTraining
from zoo.engines.loop import BackwardFn, EvalFn, LossFn, StepFn, TrainingRun
from zoo.engines.recipe import OPTIMIZERS, Recipe, TrainResult, build_optimizer, determinism, seed_everything
from zoo.engines.steps import StepTools
from zoo.errors import ConfigError
from zoo.options import TrainOptions

__all__ = [
    "EVENTS", "OPTIMIZERS", "Recipe", "StepTools", "StopTraining", "TrainResult", "as_dataset", "batch_size_of",
    "build_optimizer", "determinism", "fetch_batch", "fit", "move_to", "seed_everything", "split_loss",
]


def fit(
    model: nn.Module,
    dataset: Any,
    loss_fn: LossFn | None,
    recipe: Recipe,
    options: TrainOptions | None = None,
    *,
    collate: Callable[[list[Any]], Any] | None = None,
    eval_fn: EvalFn | None = None,
    callbacks: Sequence[Any] = (),
    optimizer: torch.optim.Optimizer | None = None,
    step_fn: StepFn | None = None,
    backward_fn: BackwardFn | None = None,
) -> TrainResult:
    """Train ``model`` in place and return a :class:`TrainResult` (see the module docstring)."""
    options = options or TrainOptions()
    if sum(f is not None for f in (loss_fn, step_fn, backward_fn)) != 1:
        raise ConfigError("fit needs exactly one of a loss_fn or a step_fn or a backward_fn")
    total = int(options.steps if options.steps is not None else recipe.steps)
    if total < 0:
        raise ConfigError(f"steps must be >= 0, got {total}")
    dataset = as_dataset(dataset)
    if len(dataset) == 0:
        raise ConfigError("the training dataset is empty")

    ctx = distributed.setup("cuda" if options.device == "auto" and torch.cuda.is_available() else options.device)
    device = distributed.device_for(options.device, ctx)
    out_dir = Path(options.out_dir) if options.out_dir else None
    writer = ctx.is_main and out_dir is not None
    if writer:
        out_dir.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
    try:
        with determinism(recipe.deterministic):
            run = TrainingRun(model, dataset, recipe, options, total, ctx, device, out_dir, writer,
                              collate=collate, eval_fn=eval_fn, callbacks=callbacks, optimizer=optimizer)
            return run.run(loss_fn, step_fn, backward_fn)
    finally:
        distributed.teardown(ctx)
