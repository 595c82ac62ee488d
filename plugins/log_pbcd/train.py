"""Training LOG-PBCD (its own loop: full-batch block coordinate descent, no autograd, no optimizer) and the
full-batch SGD baseline the paper compares it with."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F

from zoo.engines.recipe import TrainResult, seed_everything
from zoo.options import TrainOptions
from zoo_plugins.log_pbcd.bcd import activation_sparsity, init_state, objective, sweep
from zoo_plugins.log_pbcd.config import LogPBCDConfig
from zoo_plugins.log_pbcd.model import LogPBCDNet


def tensors_of(data: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """All images and labels of a dataset, stacked (full batch, as the paper trains)."""
    if hasattr(data, "tensors"):
        return data.tensors[0], data.tensors[1]
    xs, ys = zip(*(data[i] for i in range(len(data))))
    return torch.stack(xs), torch.as_tensor(ys)


@torch.no_grad()
def accuracy(net: LogPBCDNet, data: Any) -> float:
    """Top-1 accuracy of the network's forward pass."""
    x, y = tensors_of(data)
    return float((net(x).argmax(1) == y).float().mean())


def evaluate(model: LogPBCDNet, data: Any) -> dict[str, float]:
    """The ``evaluate`` hook: test accuracy and the fraction of zero hidden activations."""
    x, _ = tensors_of(data)
    with torch.no_grad():
        hidden = model.hidden_activations(x)
    return {"accuracy": accuracy(model, data),
            "hidden_zeros": float(sum(int((h == 0).sum()) for h in hidden) / sum(h.numel() for h in hidden))}


def _finish(model: Any, history: dict[str, list[float]], metrics: dict[str, float], steps: int,
            options: TrainOptions) -> TrainResult:
    out_dir = Path(options.out_dir) if options.out_dir else None
    if out_dir is not None:
        from zoo.engines.loop import save_final_weights, write_outputs
        from zoo.io import atomic_write_json

        out_dir.mkdir(parents=True, exist_ok=True)
        write_outputs(out_dir, history, "log-pbcd")
        atomic_write_json(out_dir / "metrics.json", metrics)
        save_final_weights(out_dir / "model.safetensors", model, {"zoo.steps": str(steps),
                                                                   "zoo.seed": str(options.seed)})
    return TrainResult(history=history, metrics=metrics, steps=steps, out_dir=out_dir)


def train(model: LogPBCDNet, data: Any, config: LogPBCDConfig, options: TrainOptions,
          callbacks: Any = ()) -> TrainResult:
    """Run ``options.steps`` (default ``config.iterations``) sweeps of Algorithm 1 on the whole training set.

    ``data`` is the training set or ``(train, test)``; the history records, per sweep, the objective (Eq. 4), the
    training accuracy, the activation sparsity and (with a test set) the test accuracy.
    """
    train_set, test_set = data if isinstance(data, tuple) else (data, None)
    seed_everything(options.seed)
    x, y = tensors_of(train_set)
    state = init_state(model, x, y)
    iterations = int(options.steps if options.steps is not None else config.iterations)
    history: dict[str, list[float]] = {}
    for it in range(1, iterations + 1):
        sweep(model, state)
        row = {"step": float(it), "loss": objective(model, state), "train_accuracy": accuracy(model, train_set),
               "sparsity": activation_sparsity(state)}
        if test_set is not None:
            row["test_accuracy"] = accuracy(model, test_set)
        for k, v in row.items():
            history.setdefault(k, []).append(v)
        for cb in callbacks:
            if callable(cb):
                cb("on_step_end", {"model": model, "step": it, "loss": row["loss"], "metrics": row})
    metrics = {k: v[-1] for k, v in history.items() if k != "step"}
    return _finish(model, history, metrics, iterations, options)


def sgd_baseline(model: LogPBCDNet, data: Any, iterations: int, lr: float, test: Any = None
                 ) -> dict[str, list[float]]:
    """The paper's SGD comparison: full-batch gradient descent (batch = the whole training set) on the
    cross-entropy of the same network, learning rate ``lr``; returns the per-iteration accuracies."""
    x, y = tensors_of(data)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    history: dict[str, list[float]] = {}
    for _ in range(iterations):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
        history.setdefault("train_accuracy", []).append(accuracy(model, data))
        if test is not None:
            history.setdefault("test_accuracy", []).append(accuracy(model, test))
    return history


def describe(history: dict[str, list[float]]) -> str:
    """A one-line JSON summary of the last values (for logs)."""
    return json.dumps({k: round(v[-1], 4) for k, v in history.items()})
