"""Batched local training: the clients of one architecture train together through ``torch.func``.

The clients' start models are stacked into one ``[K, P]`` tensor; every local step computes all their losses and
gradients at once with ``vmap(grad_and_value(loss))`` over per-client parameter dicts (``functional_call`` on the
cohort's template) and per-client batches, then applies the local rule and the optimiser to the stacked tensors.
Each client draws exactly the batches it would draw alone (``(seed, round, client)``), so the result equals the
sequential loop up to float rounding (the batched matmuls sum in another order).

Clients whose batch at a step has a different size (the short last batch of an epoch) or that take fewer steps
are trained in sub-groups at that step. Requirements (checked, :meth:`BatchedTrainer.unsupported` says which
failed): a loss that does not take the client context, no BatchNorm (its running statistics would be updated in
place), batchable local rule and algorithm hooks, and identical optimiser settings within a batch (steps, learning
rate and batch size may differ). Random layers (dropout) draw different noise per client under ``vmap``, so they
do not reproduce the sequential run's draws.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad_and_value, vmap

from zoo.errors import FederatedError
from zoo.engines.federated.client import ClientOutcome, ClientRuntime, FederatedData, apply_transform
from zoo.engines.federated.local import (
    FlatOptimizer, LocalContext, LocalRule, client_batches, get_batch, loss_value, rule_step, to_device,
)


class _LossModule(nn.Module):
    """``forward(batch) = loss_fn(inner, batch)``, so ``functional_call`` can swap in any client's parameters."""

    def __init__(self, inner: nn.Module, loss_fn: Any) -> None:
        super().__init__()
        self.inner = inner
        self.loss_fn = loss_fn

    def forward(self, batch: Any) -> torch.Tensor:
        return loss_value(self.loss_fn(self.inner, batch))


def _recipe_key(ctx: LocalContext) -> tuple:
    r = ctx.recipe
    assert r is not None
    return (r.optimizer, r.momentum, r.weight_decay, r.grad_clip, r.betas, r.eps, r.optimizer_state,
            r.lr_schedule, r.lr_decay, r.schedule_unit)


def _stack_states(states: list[dict[str, torch.Tensor]], what: str) -> dict[str, torch.Tensor]:
    keys = set(states[0])
    for s in states[1:]:
        if set(s) != keys:
            raise FederatedError(f"batched training needs the same {what} keys for every client, got "
                                 f"{sorted(keys)} and {sorted(s)}")
    return {k: torch.stack([s[k] for s in states]) for k in sorted(keys)}


def _stack_payloads(payloads: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    out = {}
    for k in payloads[0]:
        first = payloads[0][k]
        same = all(p[k] is first or (p[k].shape == first.shape and torch.equal(p[k], first)) for p in payloads)
        out[k] = first if same else torch.stack([p[k] for p in payloads])
    return out


class BatchedTrainer:
    """Trains many clients of one :class:`~zoo.engines.federated.client.ClientRuntime` at once."""

    def __init__(self, runtime: ClientRuntime) -> None:
        self.runtime = runtime
        self.layout = runtime.layout
        self.module = _LossModule(runtime.model, runtime.trainer.loss_fn)
        self.names = [f"inner.{n}" for n in self.layout.names]

    def unsupported(self, rule: LocalRule) -> str | None:
        """Why this runtime cannot train in batches (``None`` when it can)."""
        rt = self.runtime
        if rt.trainer.takes_ctx:
            return "the loss takes the client context (ctx)"
        if any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in rt.model.modules()):
            return "the model has BatchNorm (running statistics updated in place)"
        if not rule.batchable:
            return f"local rule {type(rule).__name__} is not batchable"
        if not rt.algorithm.batchable:
            return f"algorithm {type(rt.algorithm).__name__} is not batchable"
        return None

    def _params(self, w: torch.Tensor) -> dict[str, torch.Tensor]:
        k = w.shape[0]
        return {name: w[:, off : off + int(np.prod(shape))].reshape(k, *shape)
                for name, shape, off in zip(self.names, self.layout.shapes, self.layout.offsets)}

    def _grads(self, w: torch.Tensor, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        def f(params: dict[str, torch.Tensor], b: Any) -> torch.Tensor:
            return functional_call(self.module, params, (b,))

        grads, loss = vmap(grad_and_value(f), in_dims=(0, 0), randomness="different")(self._params(w), batch)
        flat = torch.cat([grads[n].reshape(w.shape[0], -1) for n in self.names], dim=1)
        return loss.detach(), flat.detach()

    def run(self, ctxs: list[LocalContext], data: FederatedData, seed: int) -> list[ClientOutcome]:
        """Train every context (from ``ClientRuntime.prepare``); contexts with different optimiser settings are
        trained in separate batches."""
        groups: dict[tuple, list[int]] = defaultdict(list)
        for i, ctx in enumerate(ctxs):
            groups[_recipe_key(ctx)].append(i)
        out: list[ClientOutcome | None] = [None] * len(ctxs)
        for members in groups.values():
            for i, res in zip(members, self._run_group([ctxs[i] for i in members], data, seed)):
                out[i] = res
        return [o for o in out if o is not None]

    def _run_group(self, ctxs: list[LocalContext], data: FederatedData, seed: int) -> list[ClientOutcome]:
        rt = self.runtime
        rule = rt.algorithm.local_rule()
        reason = self.unsupported(rule)
        if reason is not None:
            raise FederatedError(f"batched local training is not possible: {reason}; use execution='sequential'")
        k = len(ctxs)
        device = rt.device
        recipe = ctxs[0].recipe
        assert recipe is not None
        opt = FlatOptimizer(recipe)
        opt_states = [rt.optimiser_state(c) for c in ctxs]
        steps = [int(c.steps) for c in ctxs]
        clients = [int(c.client) for c in ctxs]
        base_lr = torch.tensor([[float(c.recipe.lr)] for c in ctxs], device=device)  # type: ignore[union-attr]
        plans = [client_batches(len(c.scratch["_indices"]), c.recipe, steps[i], seed, c.round_idx, clients[i])
                 for i, c in enumerate(ctxs)]
        transforms = [apply_transform(data.transform(c)) for c in clients]
        w = torch.stack([c.weights for c in ctxs])
        ctx = LocalContext(
            client=torch.tensor(clients, device=device).reshape(k, 1), round_idx=ctxs[0].round_idx, weights=w,
            start=torch.stack([c.start for c in ctxs]), state=_stack_states([c.state for c in ctxs], "state"),
            payload=_stack_payloads([c.payload for c in ctxs]),
            num_samples=torch.tensor([[float(c.num_samples)] for c in ctxs], device=device),
            steps=torch.tensor([[float(s)] for s in steps], device=device), lr=base_lr.clone(),
            recipe=recipe, cohort=rt.cohort, layout=self.layout,
        )
        opt_state = _stack_states(opt_states, "optimiser state")
        trainable = rt.trainer.trainable_mask(device)
        losses = torch.zeros(k, dtype=torch.float64)
        rule.begin(ctx)
        for s in range(max(steps)):
            active = [i for i in range(k) if s < steps[i]]
            by_size: dict[int, list[int]] = defaultdict(list)
            for i in active:
                by_size[len(plans[i][s])].append(i)
            for idx in by_size.values():
                batch = self._batch(ctxs, idx, s, plans, transforms, data, device)
                loss = self._step(ctx, idx, k, batch, rule, opt, opt_state, base_lr, trainable, recipe)
                losses[idx] += loss.to(torch.float64).cpu()
        rule.end(ctx)
        message = rt.algorithm.message(ctx)
        outcomes = []
        for i, c in enumerate(ctxs):
            c.weights = ctx.weights[i]
            c.state = {name: v[i] for name, v in ctx.state.items()}
            c.lr = ctx.lr[i] if isinstance(ctx.lr, torch.Tensor) else ctx.lr
            msg = {name: (v[i] if v.dim() > 1 and v.shape[0] == k else v) for name, v in message.items()}
            new_state = rt.finish_state(c, {name: v[i] for name, v in opt_state.items()})
            outcomes.append(ClientOutcome(clients[i], msg, new_state, ctx.weights[i], int(c.num_samples),
                                          float(losses[i] / max(steps[i], 1)), steps[i]))
        return outcomes

    def _batch(self, ctxs: list[LocalContext], idx: list[int], s: int, plans: list[list[np.ndarray]],
               transforms: list[Any], data: FederatedData, device: torch.device) -> Any:
        clients = [int(ctxs[i].client) for i in idx]
        shared = data.datasets[clients[0]]
        tensors = getattr(shared, "tensors", None)
        if (tensors is not None and self.runtime.trainer.collate is None and all(t is None for t in transforms)
                and all(data.datasets[c] is shared for c in clients)):
            # one gather for the whole group: [G, B] sample indices into the shared tensors
            rows = np.stack([ctxs[i].scratch["_indices"][plans[i][s]] for i in idx])
            index = torch.as_tensor(rows, dtype=torch.long)
            return tuple(t[index].to(device, non_blocking=True) for t in tensors)
        parts = []
        for i in idx:
            c = ctxs[i]
            client = int(c.client)
            b = to_device(get_batch(data.datasets[client], c.scratch["_indices"][plans[i][s]],
                                    self.runtime.trainer.collate), device)
            if transforms[i] is not None:
                b = transforms[i](b)
            parts.append(b)
        first = parts[0]
        if isinstance(first, torch.Tensor):
            return torch.stack(parts)
        if isinstance(first, (tuple, list)):
            return type(first)(torch.stack([p[j] for p in parts]) for j in range(len(first)))
        if isinstance(first, dict):
            return {key: torch.stack([p[key] for p in parts]) for key in first}
        raise FederatedError(f"batched training cannot stack batches of type {type(first).__name__}")

    def _step(self, ctx: LocalContext, idx: list[int], k: int, batch: Any, rule: LocalRule, opt: FlatOptimizer,
              opt_state: dict[str, torch.Tensor], base_lr: torch.Tensor, trainable: torch.Tensor | None,
              recipe: Any) -> torch.Tensor:
        full = len(idx) == k
        sub = ctx if full else replace(
            ctx, client=ctx.client[idx], weights=ctx.weights[idx], start=ctx.start[idx],
            state={n: v[idx] for n, v in ctx.state.items()},
            payload={n: (v[idx] if v.dim() > 1 and v.shape[0] == k else v) for n, v in ctx.payload.items()},
            num_samples=ctx.num_samples[idx], steps=ctx.steps[idx], lr=ctx.lr[idx],
        )
        ostate = opt_state if full else {n: v[idx] for n, v in opt_state.items()}
        sub.lr = opt.lr(base_lr[idx], ostate, ctx.round_idx)
        sub.step = int(ctx.step)
        sub.batch = batch

        def closure() -> tuple[torch.Tensor, torch.Tensor]:
            return self._grads(sub.weights, batch)

        loss = rule_step(rule, sub, closure, opt, ostate, trainable, recipe.grad_clip)
        if not full:
            ctx.weights[idx] = sub.weights
            for n in ctx.state:
                ctx.state[n][idx] = sub.state[n]
            for n in opt_state:
                opt_state[n][idx] = ostate[n]
            ctx.lr[idx] = sub.lr
        else:
            ctx.lr = sub.lr
        return loss


def batched_outcomes(runtime: ClientRuntime, ctxs: list[LocalContext], data: FederatedData,
                     seed: int) -> list[ClientOutcome]:
    """Convenience: train prepared contexts with a :class:`BatchedTrainer`."""
    return BatchedTrainer(runtime).run(ctxs, data, seed)


__all__ = ["BatchedTrainer", "batched_outcomes"]
