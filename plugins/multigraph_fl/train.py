"""DPASGD over the multigraph's graph states, on the federated engine's decentralised simulator.

Round ``k`` uses graph state ``k mod s_max`` of the multigraph built on the RING overlay of the configured
network: every silo takes ``u`` local steps (Adam in the paper), then mixes with a self weight ``local_coeff`` and
the rest split over its in-neighbours in that state (stale models over weak links, ``weak="stale"``; or strong
links only, ``weak="skip"``). One gossip is one ``zoo.kernels.ops.mix`` product inside the engine. Each round's
simulated wall-clock is the multigraph cycle-time recursion (:mod:`.multigraph`), so the history holds loss
against rounds and against simulated time.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from zoo.engines.trainer import TrainResult
from zoo.errors import ConfigError

from .config import MultigraphConfig
from .delay import link_delays
from .design import time_model_of
from .model import model_bits
from .multigraph import ElapsedRecursion, Multigraph, build_multigraph
from .topologies import ring_overlay
from .underlay import connectivity, load_underlay


def silo_multigraph(cfg: MultigraphConfig, model: nn.Module) -> Multigraph:
    """The multigraph over the RING overlay of ``cfg.network`` for ``model``'s size and ``cfg.compute_ms``."""
    underlay = load_underlay(cfg.network)
    conn = connectivity(underlay, cfg.latency_per_km_ms, cfg.latency_base_ms)
    tm = time_model_of(cfg, model_bits(model), cfg.compute_ms)
    ring = ring_overlay(conn, tm)
    return build_multigraph(ring, link_delays(conn, ring, tm), cfg.t_max)


class MultigraphClock:
    """Simulated seconds of each training round: :class:`~.multigraph.ElapsedRecursion` over the plans' strong links."""

    def __init__(self, mg: Multigraph, self_ms: float, mode: str) -> None:
        self.recursion = ElapsedRecursion(mg, self_ms, mode)

    def __call__(self, plan: Any) -> float:
        """Advance one round (the plan's strong links) and return its cycle time in seconds."""
        return self.recursion.step(plan.strong.cpu().numpy()) / 1e3


def _loss(model: nn.Module, batch: Any) -> torch.Tensor:
    x, y = batch[0], batch[1]
    out = model(x)
    if y.dtype.is_floating_point:
        return F.binary_cross_entropy_with_logits(out, y)
    return F.cross_entropy(out, y)


def accuracy(model: nn.Module, data: Any, batch_size: int = 512) -> float:
    """Top-1 accuracy (binary: logit > 0) of ``model`` on a map-style dataset or ``(x, y)`` tensors."""
    from zoo.metrics import accuracy as top1

    if isinstance(data, (tuple, list)) and len(data) == 2 and isinstance(data[0], torch.Tensor):
        xs, ys = data
    else:
        items = [data[k] for k in range(len(data))]
        xs = torch.stack([it[0] for it in items])
        ys = torch.stack([torch.as_tensor(it[1]) for it in items])
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(xs[k:k + batch_size]) for k in range(0, len(xs), batch_size)])
    if ys.dtype.is_floating_point:
        return float(((logits > 0).float() == ys).float().mean())
    return float(top1(logits, ys))


def evaluate(model: nn.Module, data: Any) -> dict[str, float]:
    """The ``evaluate`` hook: top-1 accuracy of the (averaged) model on a test set (``data.test`` for silo data)."""
    test = getattr(data, "test", data)
    if test is None:
        from zoo.errors import ConfigError

        raise ConfigError("multigraph-fl: no test data to evaluate on")
    return {"accuracy": accuracy(model, test)}


def make_simulator(model: nn.Module, data: Any, config: MultigraphConfig, seed: int) -> Any:
    """The engine's decentralised simulator for DPASGD over the multigraph (one Adam per silo, kept across rounds,
    ``lr_schedule`` per local step; stale models over weak links; the multigraph clock)."""
    cfg = config
    from zoo.engines.federated import DecentralizedSimulator, LocalRecipe
    from zoo.engines.federated.client import FederatedData

    federated = data.federated if hasattr(data, "federated") else data
    if not isinstance(federated, FederatedData):
        raise ConfigError("multigraph-fl trains on per-silo data: pass zoo.make_data(model, 'digits', 'train')")
    mg = silo_multigraph(cfg, model)
    if federated.num_clients != mg.num_nodes:
        raise ConfigError(f"the data has {federated.num_clients} silos but network {cfg.network!r} has "
                          f"{mg.num_nodes}")
    torch.manual_seed(seed)
    recipe = LocalRecipe(steps=cfg.local_steps, batch_size=cfg.batch_size, lr=cfg.lr, optimizer=cfg.optimizer,
                         lr_schedule=cfg.lr_schedule, schedule_unit="step")  # type: ignore[arg-type]
    eval_set = getattr(data, "test", None)
    sim = DecentralizedSimulator(
        model, _loss, federated, mg.topology(cfg.weak, cfg.local_coeff), recipe=recipe, seed=seed,
        history=max(cfg.t_max - 1, 0), clock=MultigraphClock(mg, cfg.local_steps * cfg.compute_ms, cfg.cycle_time),
        eval_fn=(lambda m: {"accuracy": accuracy(m, eval_set)}) if eval_set is not None else None,
    )
    sim.multigraph = mg
    return sim


def train_dpasgd(model: nn.Module, data: Any, config: MultigraphConfig, options: Any) -> TrainResult:
    """Train the silos' copies of ``model`` with DPASGD over the multigraph; load their average into ``model``."""
    cfg = config
    from zoo.engines.federated import flat

    seed = int(getattr(options, "seed", cfg.seed))
    rounds = int(getattr(options, "steps", None) or cfg.rounds)
    sim = make_simulator(model, data, cfg, seed)
    mg = sim.multigraph
    eval_set = getattr(data, "test", None)
    history = sim.run(rounds, eval_every=max(rounds // 4, 1))
    flat.load_flat(model, sim.average_vector())
    series = history.series()
    curves = {"loss": series["loss"], "sim_time_s": list(np.cumsum(series["sim_time_s"]))}
    if "accuracy" in series:
        curves["accuracy"] = series["accuracy"]
    isolated = [int(mg.isolated(s).sum()) for s in range(mg.num_states)]
    metrics = {
        "final_loss": float(np.mean(series["loss"][-max(1, rounds // 10):])),
        "cycle_time_ms": 1e3 * history.total_time_s / max(rounds, 1),
        "num_states": float(mg.num_states),
        "mean_isolated": float(np.mean(isolated)),
    }
    if eval_set is not None:
        metrics["accuracy"] = accuracy(model, eval_set)
    out_dir = getattr(options, "out_dir", None)
    if out_dir:
        from pathlib import Path

        from zoo.io import atomic_write_json
        from zoo.viz import training_curves

        path = Path(out_dir)
        path.mkdir(parents=True, exist_ok=True)
        atomic_write_json(path / "history.json", curves)
        training_curves(curves, path / "curves.png", title=f"multigraph-fl on {cfg.network}")
    return TrainResult(history=curves, metrics=metrics, steps=rounds, out_dir=None)
