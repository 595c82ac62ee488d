"""Training of FADNet and CDL: peer-to-peer DFL (DPASGD), server-based FedAvg (SFL) and centralised CLL.

DFL and SFL run on the federated engine's decentralised path
(:class:`zoo.engines.federated.DecentralizedSimulator`), so they get its codecs, network/time model, faults,
Byzantine models, checkpoints and the torch.distributed back-end. One communication round is ``local_steps``
minibatch steps at every silo (each silo keeps its own Adam state across rounds) followed by one mixing step
``theta_i <- sum_j A_ij theta_j`` over the overlay; SFL is the same with every silo receiving the sample-weighted
average (``A = 1 p^T``). CDL's sub-network has the ``local`` role: never mixed. BatchNorm statistics are per-silo
state (the public code does not mix them either); the returned model is the paper's federated average
``sum_i lambda_i theta_i / sum_i lambda_i`` of the parameters and of the statistics.
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

import torch
from torch import nn
from zoo_plugins.driving.data import as_float
from zoo_plugins.driving.losses import cdl_objective, regression_loss
from zoo_plugins.driving.model import CDLNet
from zoo_plugins.driving.topology import fedavg_matrix, silo_topology

from zoo.engines import federated as fl
from zoo.errors import ConfigError, DataError

EvalFn = Callable[[nn.Module], dict[str, float]]


def local_roles(model: nn.Module) -> dict[str, str]:
    """Federated roles: prefixes in ``model.local_prefixes`` (CDL's ``sub``) stay local, the rest is aggregated."""
    return {prefix.rstrip("."): "local" for prefix in getattr(model, "local_prefixes", ())}


def step_loss(method: str, model: nn.Module, images: torch.Tensor, angles: torch.Tensor, config: Any,
              round_idx: int) -> tuple[torch.Tensor, dict[str, float]]:
    """The local objective of one minibatch: MSE for FADNet, ``L_lr + L_cd`` for CDL (``L_lr`` alone in round 0)."""
    if method == "cdl":
        return cdl_objective(cast(CDLNet, model), images, angles, config.beta, config.kl, config.regression,
                             contrastive=round_idx > 0)
    loss = regression_loss(model(images), angles, "mse")
    return loss, {"lr": float(loss.detach())}


class CDLFirstRound(fl.LocalRule):
    """After its first round, every silo copies its backbone into its sub-network (CDL: "the sub-network adopts
    the same weights during the initial communication round")."""

    batchable = False

    def end(self, ctx: fl.LocalContext) -> None:
        """Round 0 only: ``sub <- backbone`` (parameters and BatchNorm statistics, in the silo's own row)."""
        if ctx.round_idx == 0 and ctx.model is not None:
            cast(CDLNet, ctx.model).copy_backbone_to_sub()


class DrivingAlgorithm(fl.Algorithm):
    """DPASGD's local part for the driving methods: plain local steps, plus CDL's first-round copy."""

    def __init__(self, method: str) -> None:
        super().__init__()
        self.method = method
        self.name = method

    def local_rule(self) -> fl.LocalRule:
        """CDL's first-round copy, or plain steps."""
        return CDLFirstRound() if self.method == "cdl" else fl.LocalRule()


def silo_data(silos: Sequence[Any]) -> fl.FederatedData:
    """One ``(images, angles)`` tensor dataset per silo (images may stay uint8; the loss converts batches)."""
    datasets = []
    for s in silos:
        if hasattr(s, "images") and hasattr(s, "angles"):
            images, angles = s.images, s.angles
        else:
            items = [s[i] for i in range(len(s))]
            images = torch.stack([torch.as_tensor(x) for x, _ in items])
            angles = torch.tensor([float(y) for _, y in items])
        if len(images) < 1:
            raise DataError("a silo holds no samples")
        datasets.append(torch.utils.data.TensorDataset(images, angles.float()))
    return fl.FederatedData.per_silo(datasets)


def topology_for(recipe: Any, sizes: list[int], mixing: torch.Tensor | None = None) -> fl.StaticTopology:
    """The engine topology of the recipe's scheme (``dfl``: the silo overlay; ``sfl``: FedAvg by sample count)."""
    if mixing is not None:
        adj = (mixing > 0) & ~torch.eye(mixing.shape[0], dtype=torch.bool)
        return fl.StaticTopology(adj, mixing.to(torch.float64))
    if recipe.scheme == "dfl":
        return silo_topology(recipe.topology, recipe.overlay)
    if recipe.scheme == "sfl":
        w = fedavg_matrix(sizes).to(torch.float64)
        return fl.StaticTopology(~torch.eye(len(sizes), dtype=torch.bool), w)
    raise ConfigError(f"train_federated runs 'dfl' or 'sfl', got scheme {recipe.scheme!r}")


def local_recipe(recipe: Any) -> fl.LocalRecipe:
    """The engine's local recipe for a driving ``FederatedRecipe`` (a silo smaller than a batch trains on all of
    its samples each step)."""
    if recipe.optimizer not in ("adam", "sgd"):
        raise ConfigError(f"optimizer must be 'adam' or 'sgd', got {recipe.optimizer!r}")
    if recipe.lr_decay not in ("constant", "sqrt"):
        raise ConfigError(f"lr_decay must be 'constant' or 'sqrt', got {recipe.lr_decay!r}")
    return fl.LocalRecipe(steps=recipe.local_steps, batch_size=recipe.batch_size, lr=recipe.lr,
                          optimizer=recipe.optimizer, lr_schedule=recipe.lr_decay, schedule_unit="step")


def make_simulator(method: str, model: nn.Module, silos: Sequence[Any], config: Any, seed: int = 0,
                   eval_fn: EvalFn | None = None, mixing: torch.Tensor | None = None,
                   device: str | torch.device = "cpu", **kw: Any) -> fl.DecentralizedSimulator:
    """The engine's decentralised simulator for a driving config (extra keyword arguments go to it: codec,
    network, byzantine, node_combiner, ...)."""
    recipe = config.federated
    data = silo_data(silos)
    sizes = [data.num_samples(k) for k in range(data.num_clients)]
    topo = topology_for(recipe, sizes, mixing)
    if topo.num_nodes != data.num_clients:
        raise DataError(f"the topology has {topo.num_nodes} silos but the data has {data.num_clients} silo datasets")

    def loss_fn(m: nn.Module, batch: Any, ctx: fl.LocalContext) -> Any:
        images, angles = batch
        return step_loss(method, m, as_float(images), angles, config, ctx.round_idx)

    torch.manual_seed(seed)
    return fl.DecentralizedSimulator(model.to(device), loss_fn, data, topo, recipe=local_recipe(recipe),
                                     algorithm=DrivingAlgorithm(method), seed=seed, roles=local_roles(model),
                                     eval_fn=eval_fn, device=device, **kw)


def consensus(sim: fl.DecentralizedSimulator) -> float:
    """Mean squared distance of the silos' aggregated parameters to their mean."""
    agg = sim.layout.mask("aggregate", torch.bool, sim.device)
    rows = sim.live[:, agg]
    return float(((rows - rows.mean(0, keepdim=True)) ** 2).mean())


def train_federated(method: str, model: nn.Module, silos: Sequence[Any], config: Any, seed: int = 0,
                    rounds: int | None = None, eval_fn: EvalFn | None = None,
                    mixing: torch.Tensor | None = None, progress: bool = False,
                    device: str | torch.device = "cpu") -> dict[str, Any]:
    """DFL (or SFL) training of ``model`` over ``silos``; ``model`` ends holding the averaged weights.

    Returns ``{"history": {...}, "metrics": {...}, "mixing": A, "rounds": R, "simulator": sim}``. ``mixing``
    overrides the matrix built from ``config.federated`` (``[N, N]``, row-stochastic).
    """
    recipe = config.federated
    total = recipe.rounds if rounds is None else rounds
    with _threads(recipe.threads):
        sim = make_simulator(method, model, silos, config, seed, None, mixing, device)
        history: dict[str, list[float]] = {"loss": [], "consensus": []}
        start = time.perf_counter()

        def after_round(record: fl.RoundRecord) -> None:
            r = record.round
            history["loss"].append(record.loss)
            history["consensus"].append(consensus(sim))
            if eval_fn is not None and recipe.eval_every and (r + 1) % recipe.eval_every == 0 and r + 1 < total:
                for k, v in _evaluate(sim, model, eval_fn).items():
                    history.setdefault(f"test_{k}", []).append(v)
            if progress and (r + 1) % max(1, total // 10) == 0:
                print(f"round {r + 1}/{total} loss {history['loss'][-1]:.4f} "
                      f"consensus {history['consensus'][-1]:.2e} ({time.perf_counter() - start:.1f}s)", flush=True)

        sim.run(total, callback=after_round)
        load_average(sim, model)
    metrics = {"train_loss": history["loss"][-1] if history["loss"] else float("nan")}
    if eval_fn is not None:
        model.eval()
        final = eval_fn(model)
        metrics.update(final)
        for k, v in final.items():
            history.setdefault(f"test_{k}", []).append(v)
    return {"history": history, "metrics": metrics, "mixing": sim.topology.plan(0).weights.to(torch.float32),
            "rounds": total, "simulator": sim}


def load_average(sim: fl.DecentralizedSimulator, model: nn.Module,
                 lambdas: Sequence[float] | None = None) -> None:
    """Load the federated average of the silos (parameters and BatchNorm statistics) into ``model``."""
    fl.load_flat(model, sim.average_vector(lambdas))
    fl.load_buffers(model, sim.average_buffers(lambdas))


def _evaluate(sim: fl.DecentralizedSimulator, model: nn.Module, eval_fn: EvalFn) -> dict[str, float]:
    load_average(sim, model)
    model.eval()
    out = eval_fn(model)
    model.train()
    return out


@contextlib.contextmanager
def _threads(n: int) -> Iterator[None]:
    """Temporarily set torch's intra-op thread count (``n <= 0``: unchanged)."""
    before = torch.get_num_threads()
    if n > 0:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def train_centralised(method: str, model: nn.Module, pooled: Any, config: Any, options: Any,
                      eval_fn: EvalFn | None = None) -> Any:
    """CLL baseline: the pooled data of all silos on one machine, with the shared trainer.

    Same optimiser, learning rate and batch as the silos; ``rounds * local_steps * N`` steps (N = the silos of
    the variant's topology), i.e. as many minibatch gradients as the whole federation computes.
    """
    from zoo_plugins.driving.topology import num_silos

    from zoo.engines.trainer import Recipe, fit

    recipe = config.federated
    steps = recipe.rounds * recipe.local_steps * max(1, num_silos(recipe.topology))
    rec = Recipe(steps=steps, batch_size=recipe.batch_size, lr=recipe.lr, optimizer=recipe.optimizer)

    def loss_fn(m: nn.Module, batch: Any) -> Any:
        images, angles = batch
        # CLL trains CDL's siamese pair too (the paper's "CDL, CLL" row); round index 1 turns L_cd on.
        return step_loss(method, m, images, angles, config, 1)

    with _threads(recipe.threads):
        return fit(model, pooled, loss_fn, rec, options, eval_fn=eval_fn)
