"""Training (shared trainer) and the paper's evaluation criteria."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.errors import ConfigError
from zoo.options import TrainOptions
from zoo.prox import lasso_cost
from zoo_plugins.lista_msn.config import ListaMSNConfig
from zoo_plugins.lista_msn.losses import code_mse, msn_nll
from zoo_plugins.lista_msn.model import ListaMSN


def recipe_for(config: ListaMSNConfig, num_samples: int) -> Recipe:
    """Adam, constant lr; ``epochs`` become steps unless ``steps`` is set."""
    steps = config.steps if config.steps is not None else config.epochs * math.ceil(num_samples / config.batch_size)
    if steps <= 0:
        raise ConfigError("ListaMSNConfig needs steps > 0 or epochs > 0")
    return Recipe(steps=steps, batch_size=config.batch_size, lr=config.lr, optimizer="adam")


def loss_fn(model: ListaMSN, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
    """NLL of the target codes under the mixture (LISTA-MSN), or their squared error (plain LISTA)."""
    x, z = batch
    z_hat, mixture = model(x)
    if mixture is None:
        loss = code_mse(z_hat, z)
        return loss, {"mse": float(loss.detach())}
    loss = msn_nll(mixture, z)
    return loss, {"nll": float(loss.detach())}


def train(model: ListaMSN, data: Any, config: ListaMSNConfig, options: TrainOptions | None = None,
          callbacks: Sequence[Any] = ()) -> TrainResult:
    """Train on ``(x, z*)`` pairs through the shared trainer."""
    return fit(model, data, loss_fn, recipe_for(config, len(data)), options or TrainOptions(), callbacks=callbacks)


def code_metrics(x: torch.Tensor, z: torch.Tensor, z_star: torch.Tensor, dictionary: torch.Tensor,
                 lam: float) -> dict[str, float]:
    """The criteria of Sect. 3: prediction error ``mean 1/2 ||x - D z||^2``, function value error
    ``mean F(z) - F(z*)`` with ``F`` the LASSO cost, code NMSE in dB ``10 log10(sum ||z - z*||^2 / sum ||z*||^2)``
    and sparsity (fraction of exact zeros)."""
    residual = x - z @ dictionary.T
    nmse = float(((z - z_star) ** 2).sum() / (z_star**2).sum().clamp_min(1e-30))
    return {
        "prediction_error": float(0.5 * (residual**2).sum(1).mean()),
        "function_value_error": float((lasso_cost(x, dictionary, z, lam) - lasso_cost(x, dictionary, z_star, lam)).mean()),
        "nmse_db": 10 * math.log10(max(nmse, 1e-30)),
        "sparsity": float((z == 0).float().mean()),
    }


@torch.no_grad()
def evaluate(model: ListaMSN, data: Any, options: Mapping[str, Any] | None = None) -> dict[str, float]:
    """:func:`code_metrics` of the model's codes on ``data`` (``options.codes``: ``mode`` or ``sample``)."""
    how = (options or {}).get("codes", "mode") or "mode"
    was_training = model.training
    model.eval()
    try:
        z = model.codes(data.x, how, generator=torch.Generator().manual_seed(0))
    finally:
        model.train(was_training)
    return code_metrics(data.x, z, data.z, model.dictionary, model.config.lam)
