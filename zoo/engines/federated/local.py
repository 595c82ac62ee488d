"""Local training of one client on its own data, with plug points for FL local rules.

:class:`LocalRecipe` is the client's optimiser recipe (steps or epochs, batch size, lr and its schedule, SGD/Adam,
whether the optimiser state persists across rounds). The trainer works on the client's flat parameter vector in
place (the template module's parameters are bound to views of it, see :func:`zoo.engines.federated.flat.bind`)
and asks a :class:`LocalRule` at four points:

``begin(ctx)``
    before the first step (FedSpeed's relaxed initialisation, FedAMD's anchor batch size).
``gradient(ctx, closure)``
    returns ``(loss, flat_grad)``; the default calls ``closure()`` once. SAM/ESAM (FedSpeed, DFedSAM) overrides it:
    perturb ``ctx.weights`` in place, call ``closure()`` again, restore.
``correct(ctx, grad)``
    returns the corrected flat gradient: FedProx adds ``mu (w - w_start)``, SCAFFOLD adds ``c - c_i``, FedCM/FedAvg-M
    mix in the last global direction, FedSpeed adds its dual term.
``end(ctx)``
    after the last step: update persistent client state (SCAFFOLD's ``c_i``).

Rules compose with :class:`ComposedRule`. A rule is *batchable* (usable by the batched trainer, which trains
many clients at once with ``ctx.weights`` of shape ``[K, P]``) when it computes row by row along the last
dimension; the provided rules are.

The client's context reaches the loss: a ``loss_fn(model, batch, ctx)`` (a parameter named ``ctx``) receives the
:class:`LocalContext` (client id, round, state, payload, step), so client-specific masks, gates or a second model
of the client can enter the forward pass.
"""
from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from zoo.errors import FederatedError
from zoo.engines.federated.flat import ParamLayout, bind, flat_grad
from zoo.engines.federated.seeding import torch_generator

LossFn = Callable[..., Any]
Closure = Callable[[], tuple[Any, torch.Tensor]]
State = dict[str, torch.Tensor]

SCHEDULES = ("constant", "sqrt", "linear", "exp")


@dataclass(frozen=True)
class LocalRecipe:
    """How a client trains locally in one round.

    ``epochs`` (FedAvg's E) makes the number of steps ``epochs * ceil(n_k / batch_size)``; otherwise ``steps``
    minibatch steps are taken. Batches walk through seeded permutations of the client's samples.

    ``optimizer_state``: ``"persist"`` keeps each client's optimiser state (momentum buffer, Adam moments and step
    count) across the rounds it takes part in (and in checkpoints), as one optimiser per silo would;
    ``"reset"`` starts every round from a fresh optimiser.

    ``lr_schedule`` multiplies ``lr`` by ``f(t)``: ``constant`` 1; ``sqrt`` ``1/sqrt(t)``; ``linear`` ``1/t``
    (both 1 at ``t = 0``, like ``LambdaLR`` in the MultigraphFL / Marfoq et al. code); ``exp`` ``lr_decay ** t``
    (FL-Simulator's 0.998 per round). ``t`` counts the client's local steps taken before this one
    (``schedule_unit="step"``, kept in the optimiser state) or the round index (``"round"``).
    """

    steps: int = 1
    batch_size: int = 32
    lr: float = 0.01
    optimizer: Literal["sgd", "adam"] = "sgd"
    momentum: float = 0.0
    weight_decay: float = 0.0
    grad_clip: float | None = None
    epochs: int | None = None
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    optimizer_state: Literal["persist", "reset"] = "persist"
    lr_schedule: Literal["constant", "sqrt", "linear", "exp"] = "constant"
    lr_decay: float = 1.0
    schedule_unit: Literal["step", "round"] = "step"

    def __post_init__(self) -> None:
        if self.steps < 0 or (self.steps < 1 and self.epochs is None):
            raise FederatedError(f"LocalRecipe.steps must be >= 1, got {self.steps}")
        if self.batch_size < 1 or self.lr <= 0:
            raise FederatedError(f"LocalRecipe needs batch_size >= 1 and lr > 0, got {self.batch_size}, {self.lr}")
        if self.optimizer not in ("sgd", "adam"):
            raise FederatedError(f"LocalRecipe.optimizer must be 'sgd' or 'adam', got {self.optimizer!r}")
        if self.optimizer_state not in ("persist", "reset"):
            raise FederatedError(f"LocalRecipe.optimizer_state must be 'persist' or 'reset', got "
                                 f"{self.optimizer_state!r}")
        if self.lr_schedule not in SCHEDULES:
            raise FederatedError(f"LocalRecipe.lr_schedule must be one of {SCHEDULES}, got {self.lr_schedule!r}")
        if self.schedule_unit not in ("step", "round"):
            raise FederatedError(f"LocalRecipe.schedule_unit must be 'step' or 'round', got {self.schedule_unit!r}")

    def num_steps(self, num_samples: int) -> int:
        """Local steps for a client holding ``num_samples`` samples."""
        if self.epochs is not None:
            return self.epochs * math.ceil(num_samples / self.batch_size)
        return self.steps

    def lr_factor(self, t: torch.Tensor | float) -> torch.Tensor | float:
        """``f(t)`` of the schedule (works on floats and on tensors of step counts)."""
        s = self.lr_schedule
        if s == "constant":
            return 1.0 if not isinstance(t, torch.Tensor) else torch.ones_like(t)
        if isinstance(t, torch.Tensor):
            safe = t.clamp_min(1.0)
            if s == "sqrt":
                return torch.where(t > 0, safe.rsqrt(), torch.ones_like(t))
            if s == "linear":
                return torch.where(t > 0, 1.0 / safe, torch.ones_like(t))
            return torch.pow(torch.full_like(t, self.lr_decay), t)
        if s == "sqrt":
            return 1.0 / math.sqrt(t) if t > 0 else 1.0
        if s == "linear":
            return 1.0 / t if t > 0 else 1.0
        return float(self.lr_decay) ** t

    def with_(self, **changes: Any) -> LocalRecipe:
        """A copy with some fields changed (per-client recipes)."""
        return replace(self, **changes)


@dataclass
class LocalContext:
    """Everything a local rule or a context-aware loss may read or change during one client's local update.

    In the batched trainer the same fields hold stacked values: ``weights``/``start`` are ``[K, P]``, ``client``,
    ``steps`` and ``lr`` are ``[K, 1]`` tensors and ``state`` values are stacked along a leading ``K`` axis.
    """

    client: Any
    round_idx: int
    weights: torch.Tensor
    start: torch.Tensor
    state: State
    payload: State
    num_samples: Any
    steps: Any
    lr: Any
    step: int = 0
    scratch: dict[str, Any] = field(default_factory=dict)
    recipe: LocalRecipe | None = None
    model: nn.Module | None = None
    batch: Any = None
    cohort: str = "default"
    layout: ParamLayout | None = None

    @property
    def device(self) -> torch.device:
        """Where the client's tensors live."""
        return self.weights.device


class LocalRule:
    """Default rule: plain minibatch gradients (FedAvg). Subclass and override any of the four hooks.

    ``batchable``: the hooks compute row by row along the last dimension, so the batched trainer may call them
    with ``[K, P]`` tensors. Set it to ``False`` in a subclass that indexes single-client tensors.
    """

    batchable: bool = True

    def begin(self, ctx: LocalContext) -> None:
        """Called before the first local step."""

    def gradient(self, ctx: LocalContext, closure: Closure) -> tuple[Any, torch.Tensor]:
        """Loss and flat gradient at ``ctx.weights`` on this step's batch."""
        return closure()

    def correct(self, ctx: LocalContext, grad: torch.Tensor) -> torch.Tensor:
        """The gradient the optimiser will use."""
        return grad

    def end(self, ctx: LocalContext) -> None:
        """Called after the last local step."""


class ComposedRule(LocalRule):
    """Several rules in order: ``begin``/``correct``/``end`` chain; the last rule overriding ``gradient`` wins."""

    def __init__(self, rules: Sequence[LocalRule]) -> None:
        self.rules = list(rules)
        self.batchable = all(r.batchable for r in self.rules)

    def begin(self, ctx: LocalContext) -> None:
        """Each rule's ``begin``."""
        for r in self.rules:
            r.begin(ctx)

    def gradient(self, ctx: LocalContext, closure: Closure) -> tuple[Any, torch.Tensor]:
        """The gradient of the last rule that overrides :meth:`LocalRule.gradient`."""
        for r in reversed(self.rules):
            if type(r).gradient is not LocalRule.gradient:
                return r.gradient(ctx, closure)
        return closure()

    def correct(self, ctx: LocalContext, grad: torch.Tensor) -> torch.Tensor:
        """Apply every rule's correction in turn."""
        for r in self.rules:
            grad = r.correct(ctx, grad)
        return grad

    def end(self, ctx: LocalContext) -> None:
        """Each rule's ``end``."""
        for r in self.rules:
            r.end(ctx)


class ProxRule(LocalRule):
    """FedProx: minimise ``F_k(w) + mu/2 ||w - w_start||^2``, i.e. add ``mu (w - w_start)`` to the gradient."""

    def __init__(self, mu: float) -> None:
        if mu < 0:
            raise FederatedError(f"FedProx mu must be >= 0, got {mu}")
        self.mu = mu

    def correct(self, ctx: LocalContext, grad: torch.Tensor) -> torch.Tensor:
        """``g + mu (w - w_start)``."""
        return grad + self.mu * (ctx.weights - ctx.start)


class SAMRule(LocalRule):
    """Sharpness-aware step (Foret et al.): gradient at ``w + rho g / ||g||`` (DFedSAM, FedSpeed's ESAM base)."""

    def __init__(self, rho: float) -> None:
        self.rho = rho

    def gradient(self, ctx: LocalContext, closure: Closure) -> tuple[Any, torch.Tensor]:
        """Two evaluations on the same batch: ascent step, then the gradient there."""
        loss, g = closure()
        eps = self.rho * g / (g.norm(dim=-1, keepdim=True) + 1e-12)
        ctx.weights.add_(eps)
        _, g_adv = closure()
        ctx.weights.sub_(eps)
        return loss, g_adv


class FlatOptimizer:
    """SGD (momentum, weight decay) or Adam on flat vectors ``[..., P]``, updated in place, with explicit state.

    The state is a dict (``buf`` or ``m``/``v``, and ``t`` the number of steps taken, shaped ``[..., 1]``, when
    Adam or a per-step schedule needs it; plain SGD has none) that the caller keeps per client, so it persists across rounds (``optimizer_state="persist"``) and checkpoints.
    The arithmetic follows ``torch.optim.SGD`` / ``torch.optim.Adam``.
    """

    def __init__(self, recipe: LocalRecipe) -> None:
        self.r = recipe

    def init_state(self, w: torch.Tensor) -> State:
        """A fresh state for a vector (or a stack of vectors) shaped like ``w``."""
        lead = tuple(w.shape[:-1]) + (1,)
        state: State = {}
        if self.r.optimizer == "adam" or (self.r.lr_schedule != "constant" and self.r.schedule_unit == "step"):
            state["t"] = torch.zeros(lead, dtype=torch.float64, device=w.device)
        if self.r.optimizer == "adam":
            state["m"] = torch.zeros_like(w)
            state["v"] = torch.zeros_like(w)
        elif self.r.momentum:
            state["buf"] = torch.zeros_like(w)
        return state

    def lr(self, base: Any, state: State, round_idx: int) -> Any:
        """This step's learning rate ``base * f(t)``: a float for one client, or a ``[K, 1]`` tensor when ``base``
        is a ``[K, 1]`` tensor of the stacked clients' base rates (``t`` per client)."""
        r = self.r
        if r.lr_schedule == "constant":
            return base
        if r.schedule_unit == "round":
            return base * float(r.lr_factor(float(round_idx)))
        t = state["t"]
        if isinstance(base, torch.Tensor):
            return base * r.lr_factor(t).to(base.dtype)
        return base * float(r.lr_factor(float(t.reshape(-1)[0])))

    def step(self, w: torch.Tensor, g: torch.Tensor, lr: Any, state: State) -> None:
        """One update of ``w`` (in place) with gradient ``g``."""
        r = self.r
        if r.weight_decay:
            g = g + r.weight_decay * w
        if "t" in state:
            state["t"] += 1
        if r.optimizer == "sgd":
            if r.momentum:
                g = state["buf"].mul_(r.momentum).add_(g)  # the buffer starts at 0: first step buf = g (torch)
            _add_scaled(w, g, lr, -1.0)
            return
        beta1, beta2 = r.betas
        m, v = state["m"], state["v"]
        m.mul_(beta1).add_(g, alpha=1 - beta1)
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        t = state["t"]
        bc1 = (1 - torch.pow(torch.full_like(t, beta1), t))
        bc2_sqrt = (1 - torch.pow(torch.full_like(t, beta2), t)).sqrt()
        denom = (v.sqrt() / bc2_sqrt.to(v.dtype)).add_(r.eps)
        if isinstance(lr, torch.Tensor):
            step_size = (lr.to(torch.float64) / bc1).to(w.dtype)
        else:
            step_size = (lr / bc1).to(w.dtype)
        w.sub_(step_size * m / denom)


def _add_scaled(w: torch.Tensor, g: torch.Tensor, lr: Any, sign: float) -> None:
    if isinstance(lr, torch.Tensor):
        w.add_(sign * lr.to(w.dtype) * g)
    else:
        w.add_(g, alpha=sign * lr)


def clip_rows(grad: torch.Tensor, max_norm: float | None) -> torch.Tensor:
    """Scale each row (last dimension) of ``grad`` down to ``max_norm`` when it is longer."""
    if max_norm is None:
        return grad
    norm = grad.norm(dim=-1, keepdim=True)
    scale = torch.where(norm > max_norm, max_norm / (norm + 1e-12), torch.ones_like(norm))
    return grad * scale


def rule_step(rule: LocalRule, ctx: LocalContext, closure: Closure, opt: FlatOptimizer, state: State,
              trainable: torch.Tensor | None, grad_clip: float | None) -> Any:
    """One local step: the rule's gradient and correction, the frozen mask, clipping, then the optimiser update
    of ``ctx.weights`` (one client, or ``[K, P]`` stacked clients). Returns the step's loss."""
    loss, grad = rule.gradient(ctx, closure)
    grad = rule.correct(ctx, grad)
    if trainable is not None:
        grad = grad * trainable
    grad = clip_rows(grad, grad_clip)
    with torch.no_grad():
        opt.step(ctx.weights, grad, ctx.lr, state)
    return loss


def get_batch(dataset: Any, idx: np.ndarray, collate: Callable[[list[Any]], Any] | None = None) -> Any:
    """Rows ``idx`` of a dataset: fast path for ``TensorDataset``-like objects (``.tensors``), else collate items."""
    tensors = getattr(dataset, "tensors", None)
    if tensors is not None and collate is None:
        index = torch.as_tensor(idx, dtype=torch.long)
        return tuple(t[index] for t in tensors)
    items = [dataset[int(i)] for i in idx]
    if collate is not None:
        return collate(items)
    return torch.utils.data.default_collate(items)


def to_device(batch: Any, device: torch.device) -> Any:
    """Move a batch (tensor, tuple/list/dict of tensors) to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, (tuple, list)):
        return type(batch)(to_device(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    return batch


def batch_plan(num_samples: int, batch_size: int, steps: int, gen: torch.Generator) -> list[np.ndarray]:
    """Index batches for ``steps`` steps over successive seeded permutations (last batch of an epoch may be short)."""
    out: list[np.ndarray] = []
    while len(out) < steps:
        perm = torch.randperm(num_samples, generator=gen).numpy()
        for s in range(0, num_samples, batch_size):
            out.append(perm[s : s + batch_size])
            if len(out) == steps:
                break
    return out


def client_batches(num_samples: int, recipe: LocalRecipe, steps: int, seed: int, round_idx: int,
                   client: int) -> list[np.ndarray]:
    """The batches client ``client`` draws in round ``round_idx``: seeded by ``(seed, round, client)`` only."""
    gen = torch_generator(seed, "batches", round_idx, client)
    return batch_plan(num_samples, recipe.batch_size, steps, gen)


def wants_context(loss_fn: LossFn) -> bool:
    """True when ``loss_fn`` takes the client context (a parameter named ``ctx``)."""
    try:
        return "ctx" in inspect.signature(loss_fn).parameters
    except (TypeError, ValueError):
        return False


def loss_value(out: Any) -> torch.Tensor:
    """The loss tensor of a ``loss_fn`` result (``loss`` or ``(loss, logs)``)."""
    return out[0] if isinstance(out, tuple) else out


@dataclass(frozen=True)
class LocalResult:
    """Outcome of one client's local update."""

    loss: float
    steps: int


class LocalTrainer:
    """Runs local updates of any client on a shared template module (one architecture, many flat vectors)."""

    def __init__(
        self,
        model: nn.Module,
        loss_fn: LossFn,
        recipe: LocalRecipe,
        layout: ParamLayout,
        collate: Callable[[list[Any]], Any] | None = None,
    ) -> None:
        self.model = model
        self.loss_fn = loss_fn
        self.recipe = recipe
        self.layout = layout
        self.collate = collate
        self.takes_ctx = wants_context(loss_fn)
        self._frozen = "frozen" in layout.roles

    def trainable_mask(self, device: torch.device) -> torch.Tensor | None:
        """``[P]`` 0/1 mask of the entries that may change (``None``: all)."""
        if not self._frozen:
            return None
        return 1.0 - self.layout.mask("frozen", device=device)

    def run(self, ctx: LocalContext, dataset: Any, indices: np.ndarray, rule: LocalRule, seed: int,
            opt_state: State | None = None, transform: Callable[[Any], Any] | None = None) -> LocalResult:
        """Train ``ctx.weights`` in place for ``ctx.steps`` steps on ``dataset[indices]``.

        Batches come from a generator seeded by ``(seed, round, client)`` only, so the result does not depend on
        which other clients ran before (the simulator, Flower and torch.distributed back-ends agree).
        ``opt_state`` is the client's optimiser state (updated in place; a fresh one when ``None``).
        """
        if indices.size == 0:
            raise FederatedError(f"client {ctx.client} has no samples")
        recipe = ctx.recipe or self.recipe
        model = self.model
        bind(model, ctx.weights)
        model.train()
        ctx.model = model
        ctx.layout = self.layout
        params = list(model.parameters())
        batches = client_batches(indices.size, recipe, int(ctx.steps), seed, ctx.round_idx, int(ctx.client))
        opt = FlatOptimizer(recipe)
        state = opt_state if opt_state is not None else opt.init_state(ctx.weights)
        trainable = self.trainable_mask(ctx.weights.device)
        device = ctx.weights.device
        rule.begin(ctx)
        losses = []
        for step, local_idx in enumerate(batches):
            ctx.step = step
            batch = to_device(get_batch(dataset, indices[local_idx], self.collate), device)
            if transform is not None:
                batch = transform(batch)
            ctx.batch = batch
            ctx.lr = opt.lr(recipe.lr, state, ctx.round_idx)

            def closure(batch: Any = batch) -> tuple[float, torch.Tensor]:
                model.zero_grad(set_to_none=True)
                out = self.loss_fn(model, batch, ctx) if self.takes_ctx else self.loss_fn(model, batch)
                loss = loss_value(out)
                loss.backward()
                return float(loss.detach()), flat_grad(params, self.layout.numel)

            losses.append(rule_step(rule, ctx, closure, opt, state, trainable, recipe.grad_clip))
        rule.end(ctx)
        model.zero_grad(set_to_none=True)
        ctx.batch = None
        return LocalResult(float(np.mean(losses)), len(batches))
