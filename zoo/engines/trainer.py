"""The shared trainer: one loop that every plugin's ``zoo_train`` hook can hand its model, data and loss to.

::

    from zoo.engines.trainer import Recipe, fit
    recipe = Recipe(steps=200, batch_size=32, lr=1e-3, schedule="cosine", warmup_steps=20, grad_clip=1.0)
    result = fit(model, dataset, loss_fn, recipe, options)      # options: zoo.specs.TrainOptions

What it does for you:

- **data order**: the batch of step ``s`` is drawn from a generator seeded by ``(seed, s)``
  (:mod:`zoo.engines.sampling`), so a resumed run sees the same batches;
- **checkpoints** every ``options.checkpoint_every`` steps and at the end (weights as safetensors, optimizer,
  scheduler, grad scaler, EMA, RNG states, step, history), written atomically under ``out_dir/checkpoints``;
  ``options.resume`` continues from the newest one. On CPU, N steps in one go and N/2 + resume + N/2 give
  bitwise-identical weights;
- **seeding** (``options.seed``: Python, NumPy, torch), a **determinism** switch (``Recipe.deterministic``);
- **gradient clipping** (global norm), **mixed precision** (``Recipe.amp``: autocast only on CUDA; bf16 where
  supported, else fp16 with a grad scaler), **EMA** of the weights (``Recipe.ema_decay``; evaluation and the
  final weights use the average), **LR schedules** (constant, cosine or step, with linear warm-up);
- **callbacks**: plain callables ``cb(event, state)`` (or objects with ``on_<event>`` methods) passed in
  ``callbacks``, and the pluggy hook ``zoo_train_event(event, state)`` fired on every registered plugin.
  Events: ``on_train_start``, ``on_step_end``, ``on_eval_end``, ``on_checkpoint``, ``on_train_end``;
- **outputs** in ``options.out_dir``: ``history.json``, ``curves.png``, ``model.safetensors`` (final weights),
  ``checkpoints/``;
- **DDP**: under ``torchrun`` (``WORLD_SIZE`` > 1) the model is wrapped in DistributedDataParallel, each rank
  takes its share of every global batch, and only rank 0 writes or shows progress
  (:mod:`zoo.engines.distributed`).

``loss_fn(model, batch)`` returns a loss tensor or ``(loss, {name: float})``; ``step_fn(model, batch,
optimizer)`` replaces the default backward/step and returns ``{name: float}`` (include ``"loss"``);
``eval_fn(model)`` returns ``{metric: float}``.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from zoo._io import atomic_write_json
from zoo.engines import checkpoint as ckpt
from zoo.engines import distributed
from zoo.engines.ema import EMA
from zoo.engines.sampling import StepSampler
from zoo.engines.schedules import SCHEDULES, make_scheduler
from zoo.errors import ConfigError, TrainingError, ZooError
from zoo.options import TrainOptions

EVENTS: tuple[str, ...] = ("on_train_start", "on_step_end", "on_eval_end", "on_checkpoint", "on_train_end")
OPTIMIZERS: tuple[str, ...] = ("adamw", "adam", "sgd")

LossFn = Callable[[nn.Module, Any], Any]
StepFn = Callable[[nn.Module, Any, Any], Mapping[str, float]]
EvalFn = Callable[[nn.Module], Mapping[str, float]]


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


# ----------------------------------------------------------------------------------------------- helpers


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


def move_to(batch: Any, device: torch.device) -> Any:
    """Move every tensor inside nested tuples/lists/dicts to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        moved = {k: move_to(v, device) for k, v in batch.items()}
        try:
            return type(batch)(moved)
        except TypeError:
            return moved
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # namedtuple
        return type(batch)(*(move_to(v, device) for v in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(move_to(v, device) for v in batch)
    return batch


def as_dataset(data: Any) -> Any:
    """Accept a map-style dataset, or a tuple/list of equally long tensors (wrapped as a TensorDataset)."""
    from torch.utils.data import TensorDataset

    if isinstance(data, (tuple, list)) and data and all(isinstance(t, torch.Tensor) for t in data):
        return TensorDataset(*data)
    if not hasattr(data, "__getitem__") or not hasattr(data, "__len__"):
        raise ConfigError(
            f"the trainer needs a map-style dataset (__getitem__ and __len__), got {type(data).__name__}"
        )
    return data


def fetch_batch(dataset: Any, indices: torch.Tensor, collate: Callable[[list[Any]], Any] | None) -> Any:
    """Gather and collate the samples at ``indices`` (TensorDatasets are indexed in one go)."""
    from torch.utils.data import TensorDataset, default_collate

    if collate is None and isinstance(dataset, TensorDataset):
        return tuple(t[indices] for t in dataset.tensors)
    items = [dataset[i] for i in indices.tolist()]
    return (collate or default_collate)(items)


def batch_size_of(batch: Any, default: int) -> int:
    """Number of samples in a batch (first dimension of its first tensor)."""
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0]) if batch.dim() else default
    if isinstance(batch, Mapping):
        for value in batch.values():
            return batch_size_of(value, default)
    if isinstance(batch, (list, tuple)) and batch:
        return batch_size_of(batch[0], default)
    return default


def split_loss(out: Any) -> tuple[torch.Tensor, dict[str, float]]:
    """Normalise a loss function's return value to ``(loss, extras)``."""
    if isinstance(out, torch.Tensor):
        return out, {}
    if isinstance(out, (tuple, list)) and len(out) == 2 and isinstance(out[0], torch.Tensor):
        extras = {
            str(k): float(v.detach().item() if isinstance(v, torch.Tensor) else v) for k, v in out[1].items()
        }
        return out[0], extras
    raise TrainingError(f"loss_fn must return a Tensor or (Tensor, dict), got {type(out).__name__}")


def _float_metrics(values: Mapping[str, Any]) -> dict[str, float]:
    out = {}
    for k, v in values.items():
        out[str(k)] = float(v.detach().item() if isinstance(v, torch.Tensor) else v)
    return out


class StopTraining(Exception):
    """Raise from a callback to end the run early and cleanly (the step reached is checkpointed)."""


class _Events:
    """Fans an event out to the plain callbacks and to every plugin's ``zoo_train_event`` hook."""

    def __init__(self, callbacks: Sequence[Any], enabled: bool) -> None:
        self.callbacks = list(callbacks)
        self.enabled = enabled
        self.hook = self._plugin_hook() if enabled else None

    _warned = False

    @classmethod
    def _plugin_hook(cls) -> Any:
        try:
            from zoo import discovery

            return discovery.plugins().manager.hook.zoo_train_event
        except ZooError as exc:  # an unrelated broken plugin (strict mode) must not stop training
            if not cls._warned:
                cls._warned = True
                first = str(exc).splitlines()[0]
                warnings.warn(
                    f"training events will not reach plugins: {first}", RuntimeWarning, stacklevel=3
                )
            return None

    def fire(self, event: str, state: dict[str, Any]) -> None:
        if not self.enabled:
            return
        state = dict(state, event=event)
        for cb in self.callbacks:
            method = getattr(cb, event, None)
            if method is not None and callable(method):
                method(state)
            elif callable(cb):
                cb(event, state)
        if self.hook is not None:
            self.hook(event=event, state=state)


class _Progress:
    """A tqdm bar on the main rank (loss, learning rate, samples per second)."""

    def __init__(self, total: int, initial: int, enabled: bool) -> None:
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(
                total=total, initial=initial, desc="train", unit="step", dynamic_ncols=True, mininterval=0.5
            )
        self._t0 = time.perf_counter()
        self._samples = 0

    def update(self, samples: int, loss: float, lr: float, refresh: bool) -> float:
        self._samples += samples
        rate = self._samples / max(time.perf_counter() - self._t0, 1e-9)
        if self.bar is not None:
            if refresh:
                self.bar.set_postfix(
                    loss=f"{loss:.4g}", lr=f"{lr:.3g}", samples_s=f"{rate:.1f}", refresh=False
                )
            self.bar.update(1)
        return rate

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _amp_setup(recipe: Recipe, device: torch.device) -> tuple[Callable[[], Any], Any]:
    """An autocast context factory and a grad scaler (both inert unless ``amp`` on CUDA)."""
    if not (recipe.amp and device.type == "cuda"):
        return contextlib.nullcontext, torch.amp.GradScaler("cuda", enabled=False)
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)
    return (lambda: torch.autocast(device_type="cuda", dtype=dtype)), scaler


def _write_outputs(out_dir: Path, history: dict[str, list[float]], title: str) -> None:
    atomic_write_json(out_dir / "history.json", history)
    try:
        from zoo.viz import training_curves

        training_curves(history, out_dir / "curves.png", title=title)
    except ImportError as exc:  # matplotlib missing: the history is still there
        warnings.warn(f"no curves.png: {exc}", RuntimeWarning, stacklevel=2)


def _save_final_weights(path: Path, model: nn.Module, meta: Mapping[str, str]) -> None:
    from safetensors.torch import save

    from zoo._io import atomic_write_bytes

    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    atomic_write_bytes(path, save(tensors, metadata=dict(meta)))


# ----------------------------------------------------------------------------------------------- fit


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
) -> TrainResult:
    """Train ``model`` in place and return a :class:`TrainResult` (see the module docstring)."""
    options = options or TrainOptions()
    if loss_fn is None and step_fn is None:
        raise ConfigError("fit needs a loss_fn or a step_fn")
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
        out_dir.mkdir(parents=True, exist_ok=True)
    try:
        with determinism(recipe.deterministic):
            return _fit(
                model,
                dataset,
                loss_fn,
                recipe,
                options,
                total,
                ctx,
                device,
                out_dir,
                writer,
                collate=collate,
                eval_fn=eval_fn,
                callbacks=callbacks,
                optimizer=optimizer,
                step_fn=step_fn,
            )
    finally:
        distributed.teardown(ctx)


def _fit(
    model: nn.Module,
    dataset: Any,
    loss_fn: LossFn | None,
    recipe: Recipe,
    options: TrainOptions,
    total: int,
    ctx: distributed.DistContext,
    device: torch.device,
    out_dir: Path | None,
    writer: bool,
    *,
    collate: Any,
    eval_fn: EvalFn | None,
    callbacks: Sequence[Any],
    optimizer: Any,
    step_fn: StepFn | None,
) -> TrainResult:
    seed_everything(options.seed + ctx.rank)
    model.to(device)
    opt = optimizer if optimizer is not None else build_optimizer(model, recipe)
    scheduler = make_scheduler(
        opt,
        total_steps=total,
        schedule=recipe.schedule,
        warmup_steps=recipe.warmup_steps,
        milestones=recipe.milestones,
        gamma=recipe.gamma,
        min_lr_ratio=recipe.min_lr_ratio,
    )
    ema = EMA(model, recipe.ema_decay) if recipe.ema_decay is not None else None
    autocast, scaler = _amp_setup(recipe, device)
    sampler = StepSampler(
        len(dataset),
        recipe.batch_size,
        seed=options.seed,
        rank=ctx.rank,
        world_size=ctx.world_size,
        shuffle=recipe.shuffle,
    )
    history: dict[str, list[float]] = {}
    start = 0
    ckpt_root = out_dir / "checkpoints" if out_dir is not None else None
    last_ckpt: Path | None = None
    if options.resume:
        if ckpt_root is None:
            raise ConfigError("resume needs options.out_dir (where the checkpoints are)")
        last_ckpt = ckpt.latest_checkpoint(ckpt_root)
        if last_ckpt is not None:
            state = ckpt.load_checkpoint(
                last_ckpt,
                model=model,
                optimizer=opt,
                scheduler=scheduler,
                ema=ema,
                scaler=scaler,
                restore_rng_state=ctx.is_main,
            )
            if not ctx.is_main:  # each rank keeps its own stream of randomness
                seed_everything(options.seed + ctx.rank + 7919 * int(state["step"]))
            start = int(state["step"])
            history = {k: list(v) for k, v in state.get("history", {}).items()}
            if start > total:
                raise TrainingError(
                    f"checkpoint {last_ckpt} is at step {start}, beyond the {total} steps asked"
                )

    wrapped = (
        distributed.wrap(model, ctx, device)
        if recipe.ddp_find_unused_parameters is False
        else _wrap_unused(model, ctx, device)
    )
    events = _Events(callbacks, enabled=True)
    tag = getattr(model, "zoo", None)
    title = getattr(tag, "name", type(model).__name__)
    meta = {
        "recipe": _recipe_json(recipe),
        "seed": options.seed,
        "total_steps": total,
        "model": title,
        "world_size": ctx.world_size,
    }
    base_state = {
        "model": model,
        "optimizer": opt,
        "recipe": recipe,
        "options": options,
        "out_dir": out_dir,
        "total_steps": total,
        "rank": ctx.rank,
        "world_size": ctx.world_size,
        "history": history,
    }
    events.fire("on_train_start", dict(base_state, step=start))
    progress = _Progress(total, start, enabled=options.progress and ctx.is_main and total > start)
    log_every = max(1, int(options.log_every or 1))
    metrics: dict[str, float] = {}
    wants_ckpt = ckpt_root is not None

    def checkpoint(step: int) -> None:
        nonlocal last_ckpt
        if writer and ckpt_root is not None:
            last_ckpt = ckpt.save_checkpoint(
                ckpt_root,
                step,
                model=model,
                optimizer=opt,
                scheduler=scheduler,
                ema=ema,
                scaler=scaler,
                history=history,
                meta=meta,
                keep=recipe.keep_checkpoints,
            )
            atomic_write_json(out_dir / "history.json", history)  # type: ignore[operator]
        distributed.barrier(ctx)
        events.fire("on_checkpoint", dict(base_state, step=step, path=last_ckpt))

    def evaluate(step: int) -> dict[str, float]:
        if eval_fn is None or not ctx.is_main:
            return {}
        with ema.applied(model) if ema is not None else contextlib.nullcontext():
            values = _float_metrics(eval_fn(model))
        history.setdefault("eval_step", []).append(float(step))
        for k, v in values.items():
            history.setdefault(f"eval_{k}", []).append(v)
        events.fire("on_eval_end", dict(base_state, step=step, metrics=values))
        return values

    loss_value = float("nan")
    reached = start
    try:
        for step in range(start, total):
            indices = sampler.indices(step)
            batch = move_to(fetch_batch(dataset, indices, collate), device)
            model.train()
            extras: dict[str, float]
            if isinstance(wrapped, distributed.DDP):
                wrapped.forward_called = False
            if step_fn is not None:
                extras = _float_metrics(step_fn(wrapped, batch, opt))
                if isinstance(wrapped, distributed.DDP) and not wrapped.forward_called:
                    distributed.average_parameters(model, ctx)
                loss_value = float(extras.get("loss", float("nan")))
            else:
                opt.zero_grad(set_to_none=True)
                with autocast():
                    loss, extras = split_loss(loss_fn(wrapped, batch))  # type: ignore[misc]
                loss_value = float(loss.detach().item())
                if not math.isfinite(loss_value):
                    raise TrainingError(
                        f"loss became {loss_value} at step {step}; lower the learning rate, "
                        "enable grad_clip, or check the data for NaN/Inf"
                    )
                scaler.scale(loss).backward()
                if isinstance(wrapped, distributed.DDP) and not wrapped.forward_called:
                    distributed.sync_gradients(model, ctx)
                if recipe.grad_clip is not None:
                    scaler.unscale_(opt)
                    norm = torch.nn.utils.clip_grad_norm_(
                        [p for g in opt.param_groups for p in g["params"]], recipe.grad_clip
                    )
                    extras["grad_norm"] = float(norm)
                scaler.step(opt)
                scaler.update()
            lr = float(opt.param_groups[0]["lr"])
            scheduler.step()
            if ema is not None:
                ema.update(model)
            done = step + 1
            reached = done
            history.setdefault("step", []).append(float(done))
            history.setdefault("loss", []).append(loss_value)
            history.setdefault("lr", []).append(lr)
            for k, v in extras.items():
                if k != "loss":
                    history.setdefault(k, []).append(v)
            rate = progress.update(
                batch_size_of(batch, recipe.batch_size) * ctx.world_size,
                loss_value,
                lr,
                refresh=(done % log_every == 0 or done == total),
            )
            events.fire(
                "on_step_end",
                dict(base_state, step=done, loss=loss_value, lr=lr, metrics=extras, samples_per_second=rate),
            )
            if options.eval_every and done % options.eval_every == 0 and done < total:
                metrics = evaluate(done)
            if (
                wants_ckpt
                and options.checkpoint_every
                and done % options.checkpoint_every == 0
                and done < total
            ):
                checkpoint(done)
    except StopTraining:
        pass
    finally:
        progress.close()

    if wants_ckpt and (last_ckpt is None or ckpt.step_dir(ckpt_root, reached) != last_ckpt):  # type: ignore[arg-type]
        checkpoint(reached)  # the live weights (and the EMA separately), so the run can be extended exactly
    if ema is not None:
        ema.copy_to(model)
        ema = None  # the model now holds the average; evaluate it as is
    if eval_fn is not None:
        metrics = evaluate(reached)
    losses = history.get("loss", [])
    tail = [v for v in losses[-10:] if math.isfinite(v)]
    if tail:
        metrics = {"final_loss": sum(tail) / len(tail), **metrics}
    if writer and out_dir is not None:
        _write_outputs(out_dir, history, title)
        atomic_write_json(out_dir / "metrics.json", metrics)
        _save_final_weights(
            out_dir / "model.safetensors",
            model,
            {"zoo.model": title, "zoo.steps": str(reached), "zoo.seed": str(options.seed)},
        )
    result = TrainResult(
        history=history, metrics=metrics, steps=reached, out_dir=out_dir, checkpoint=last_ckpt
    )
    events.fire("on_train_end", dict(base_state, step=reached, metrics=metrics, result=result))
    return result


def _wrap_unused(model: nn.Module, ctx: distributed.DistContext, device: torch.device) -> nn.Module:
    """DDP wrapping that tolerates parameters unused by a step (slower; ``ddp_find_unused_parameters``)."""
    if not ctx.enabled:
        return model
    ids = [device.index] if device.type == "cuda" else None
    return distributed.DDP(model, device_ids=ids, find_unused_parameters=True)


def _recipe_json(recipe: Recipe) -> dict[str, Any]:
    return json.loads(json.dumps(asdict(recipe)))
