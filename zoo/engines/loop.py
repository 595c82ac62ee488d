"""The training loop behind :func:`zoo.engines.trainer.fit`: set-up and resume, the steps, evaluation,
checkpoints and the outputs of a finished run. One :class:`TrainingRun` per call of ``fit``."""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from zoo.io import atomic_write_json
from zoo.engines import checkpoint as ckpt
from zoo.engines import distributed
from zoo.engines.batches import batch_size_of, fetch_batch, float_metrics, move_to, split_loss
from zoo.engines.ema import EMA
from zoo.engines.events import Events, Progress, StopTraining
from zoo.engines.recipe import Recipe, TrainResult, build_optimizer, seed_everything
from zoo.engines.sampling import StepSampler
from zoo.engines.schedules import make_scheduler
from zoo.engines.steps import StepTools, amp_setup, check_finite
from zoo.errors import ConfigError, TrainingError
from zoo.options import TrainOptions

LossFn = Callable[[nn.Module, Any], Any]
StepFn = Callable[[nn.Module, Any, Any], Mapping[str, float]]
BackwardFn = Callable[[nn.Module, Any, StepTools], Mapping[str, float]]
EvalFn = Callable[[nn.Module], Mapping[str, float]]


class TrainingRun:
    """The state of one run: model, optimizer, schedule, EMA, scaler, sampler, history and checkpoints."""

    def __init__(self, model: nn.Module, dataset: Any, recipe: Recipe, options: TrainOptions, total: int,
                 ctx: distributed.DistContext, device: torch.device, out_dir: Path | None, writer: bool, *,
                 collate: Any, eval_fn: EvalFn | None, callbacks: Sequence[Any], optimizer: Any) -> None:
        seed_everything(options.seed + ctx.rank)
        model.to(device)
        self.model, self.dataset, self.recipe, self.options = model, dataset, recipe, options
        self.total, self.ctx, self.device, self.out_dir, self.writer = total, ctx, device, out_dir, writer
        self.collate, self.eval_fn = collate, eval_fn
        self.opt = optimizer if optimizer is not None else build_optimizer(model, recipe)
        self.scheduler = make_scheduler(self.opt, total_steps=total, schedule=recipe.schedule,
                                        warmup_steps=recipe.warmup_steps, milestones=recipe.milestones,
                                        gamma=recipe.gamma, min_lr_ratio=recipe.min_lr_ratio)
        self.ema: EMA | None = EMA(model, recipe.ema_decay) if recipe.ema_decay is not None else None
        self.autocast, self.scaler = amp_setup(recipe.amp, device)
        self.sampler = StepSampler(len(dataset), recipe.batch_size, seed=options.seed, rank=ctx.rank,
                                   world_size=ctx.world_size, shuffle=recipe.shuffle)
        self.history: dict[str, list[float]] = {}
        self.start = 0
        self.ckpt_root = out_dir / "checkpoints" if out_dir is not None else None
        self.last_ckpt: Path | None = None
        if options.resume:
            self._resume()
        self.wrapped = distributed.wrap(model, ctx, device) if not recipe.ddp_find_unused_parameters \
            else _wrap_unused(model, ctx, device)
        self.events = Events(callbacks, enabled=True)
        self.title = getattr(getattr(model, "zoo", None), "name", type(model).__name__)
        self.meta = {"recipe": recipe.to_json(), "seed": options.seed, "total_steps": total, "model": self.title,
                     "world_size": ctx.world_size}
        self.base_state = {"model": model, "optimizer": self.opt, "recipe": recipe, "options": options,
                           "out_dir": out_dir, "total_steps": total, "rank": ctx.rank,
                           "world_size": ctx.world_size, "history": self.history}

    # ------------------------------------------------------------------ resume, checkpoints, evaluation

    def _resume(self) -> None:
        if self.ckpt_root is None:
            raise ConfigError("resume needs options.out_dir (where the checkpoints are)")
        self.last_ckpt = ckpt.latest_checkpoint(self.ckpt_root)
        if self.last_ckpt is None:
            return
        state = ckpt.load_checkpoint(self.last_ckpt, model=self.model, optimizer=self.opt,
                                     scheduler=self.scheduler, ema=self.ema, scaler=self.scaler,
                                     restore_rng_state=self.ctx.is_main)
        if not self.ctx.is_main:  # each rank keeps its own stream of randomness
            seed_everything(self.options.seed + self.ctx.rank + 7919 * int(state["step"]))
        self.start = int(state["step"])
        self.history.update({k: list(v) for k, v in state.get("history", {}).items()})
        if self.start > self.total:
            raise TrainingError(
                f"checkpoint {self.last_ckpt} is at step {self.start}, beyond the {self.total} steps asked"
            )

    def checkpoint(self, step: int) -> None:
        """Write a checkpoint of ``step`` (main rank) and tell the callbacks."""
        if self.writer and self.ckpt_root is not None:
            self.last_ckpt = ckpt.save_checkpoint(
                self.ckpt_root, step, model=self.model, optimizer=self.opt, scheduler=self.scheduler,
                ema=self.ema, scaler=self.scaler, history=self.history, meta=self.meta,
                keep=self.recipe.keep_checkpoints)
            atomic_write_json(self.out_dir / "history.json", self.history)  # type: ignore[operator]
        distributed.barrier(self.ctx)
        self.events.fire("on_checkpoint", dict(self.base_state, step=step, path=self.last_ckpt))

    def evaluate(self, step: int) -> dict[str, float]:
        """Run ``eval_fn`` (on the EMA weights when there are some) and record its metrics."""
        if self.eval_fn is None or not self.ctx.is_main:
            return {}
        with self.ema.applied(self.model) if self.ema is not None else contextlib.nullcontext():
            values = float_metrics(self.eval_fn(self.model))
        self.history.setdefault("eval_step", []).append(float(step))
        for k, v in values.items():
            self.history.setdefault(f"eval_{k}", []).append(v)
        self.events.fire("on_eval_end", dict(self.base_state, step=step, metrics=values))
        return values

    # ------------------------------------------------------------------ one step

    def _ddp_forward_skipped(self) -> bool:
        return isinstance(self.wrapped, distributed.DDP) and not self.wrapped.forward_called

    def _tools(self, step: int) -> StepTools:
        def sync() -> None:
            if self._ddp_forward_skipped():
                distributed.sync_gradients(self.model, self.ctx)

        return StepTools(self.opt, self.scaler, self.autocast, self.recipe.grad_clip, step, before_step=sync)

    def step(self, step: int, batch: Any, loss_fn: LossFn | None, step_fn: StepFn | None,
             backward_fn: BackwardFn | None) -> tuple[float, dict[str, float]]:
        """One optimisation step on ``batch``; returns the loss and the extra metrics."""
        if isinstance(self.wrapped, distributed.DDP):
            self.wrapped.forward_called = False
        if step_fn is not None:  # a step that does everything itself (no AMP/clipping: prefer backward_fn)
            extras = float_metrics(step_fn(self.wrapped, batch, self.opt))
            if self._ddp_forward_skipped():
                distributed.average_parameters(self.model, self.ctx)
            loss_value = float(extras.get("loss", float("nan")))
            if "loss" in extras:
                check_finite(loss_value, "loss", step)
            return loss_value, extras
        tools = self._tools(step)
        self.opt.zero_grad(set_to_none=True)
        if backward_fn is not None:
            extras = float_metrics(backward_fn(self.wrapped, batch, tools))
            loss_value = float(extras.get("loss", float("nan")))
            if "loss" in extras:
                check_finite(loss_value, "loss", step)
        else:
            with tools.autocast():
                loss, extras = split_loss(loss_fn(self.wrapped, batch))  # type: ignore[misc]
            loss_value = tools.backward(loss)
        if tools.steps_taken == 0:
            tools.step()
        self.scaler.update()
        extras.update(tools.metrics())
        return loss_value, extras

    def record(self, done: int, loss_value: float, lr: float, extras: Mapping[str, float]) -> None:
        """Append one step's figures to the history."""
        self.history.setdefault("step", []).append(float(done))
        self.history.setdefault("loss", []).append(loss_value)
        self.history.setdefault("lr", []).append(lr)
        for k, v in extras.items():
            if k != "loss":
                self.history.setdefault(k, []).append(v)

    # ------------------------------------------------------------------ the loop

    def run(self, loss_fn: LossFn | None, step_fn: StepFn | None, backward_fn: BackwardFn | None) -> TrainResult:
        """Train from the start (or resumed) step to the total, then finish the run."""
        self.events.fire("on_train_start", dict(self.base_state, step=self.start))
        progress = Progress(self.total, self.start, enabled=self.options.progress and self.ctx.is_main
                            and self.total > self.start)
        log_every = max(1, int(self.options.log_every or 1))
        wants_ckpt = self.ckpt_root is not None
        reached = self.start
        try:
            for step in range(self.start, self.total):
                batch = move_to(fetch_batch(self.dataset, self.sampler.indices(step), self.collate), self.device)
                self.model.train()
                loss_value, extras = self.step(step, batch, loss_fn, step_fn, backward_fn)
                lr = float(self.opt.param_groups[0]["lr"])
                self.scheduler.step()
                if self.ema is not None:
                    self.ema.update(self.model)
                reached = done = step + 1
                self.record(done, loss_value, lr, extras)
                rate = progress.update(batch_size_of(batch, self.recipe.batch_size) * self.ctx.world_size,
                                       loss_value, lr, refresh=(done % log_every == 0 or done == self.total))
                self.events.fire("on_step_end", dict(self.base_state, step=done, loss=loss_value, lr=lr,
                                                     metrics=extras, samples_per_second=rate))
                if self.options.eval_every and done % self.options.eval_every == 0 and done < self.total:
                    self.evaluate(done)
                if wants_ckpt and self.options.checkpoint_every and done % self.options.checkpoint_every == 0 \
                        and done < self.total:
                    self.checkpoint(done)
        except StopTraining:
            pass
        finally:
            progress.close()
        return self.finish(reached)

    def finish(self, reached: int) -> TrainResult:
        """Final checkpoint, EMA weights into the model, last evaluation, outputs, ``on_train_end``."""
        if self.ckpt_root is not None and (
                self.last_ckpt is None or ckpt.step_dir(self.ckpt_root, reached) != self.last_ckpt):
            self.checkpoint(reached)  # the live weights (and the EMA separately): the run can be extended exactly
        if self.ema is not None:
            self.ema.copy_to(self.model)
            self.ema = None  # the model now holds the average; evaluate it as is
        metrics = self.evaluate(reached) if self.eval_fn is not None else {}
        tail = [v for v in self.history.get("loss", [])[-10:] if math.isfinite(v)]
        if tail:
            metrics = {"final_loss": sum(tail) / len(tail), **metrics}
        if self.writer and self.out_dir is not None:
            write_outputs(self.out_dir, self.history, self.title)
            atomic_write_json(self.out_dir / "metrics.json", metrics)
            save_final_weights(self.out_dir / "model.safetensors", self.model,
                               {"zoo.model": self.title, "zoo.steps": str(reached),
                                "zoo.seed": str(self.options.seed)})
        result = TrainResult(history=self.history, metrics=metrics, steps=reached, out_dir=self.out_dir,
                             checkpoint=self.last_ckpt)
        self.events.fire("on_train_end", dict(self.base_state, step=reached, metrics=metrics, result=result))
        return result


def write_outputs(out_dir: Path, history: dict[str, list[float]], title: str) -> None:
    """``history.json`` and ``curves.png`` (the curves are skipped with a warning without matplotlib)."""
    atomic_write_json(out_dir / "history.json", history)
    try:
        from zoo.viz import training_curves

        training_curves(history, out_dir / "curves.png", title=title)
    except ImportError as exc:  # matplotlib missing: the history is still there
        warnings.warn(f"no curves.png: {exc}", RuntimeWarning, stacklevel=2)


def save_final_weights(path: Path, model: nn.Module, meta: Mapping[str, str]) -> None:
    """The model's state dict as safetensors, written atomically."""
    from safetensors.torch import save

    from zoo.io import atomic_write_bytes

    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    atomic_write_bytes(path, save(tensors, metadata=dict(meta)))


def _wrap_unused(model: nn.Module, ctx: distributed.DistContext, device: torch.device) -> nn.Module:
    """DDP wrapping that tolerates parameters unused by a step (slower; ``ddp_find_unused_parameters``)."""
    if not ctx.enabled:
        return model
    ids = [device.index] if device.type == "cuda" else None
    return distributed.DDP(model, device_ids=ids, find_unused_parameters=True)
