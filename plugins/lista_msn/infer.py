"""Inference: signals ``x [B, n]`` -> sparse codes (the MSN's mode or a sample), with the mixture weights."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from zoo.errors import InputError
from zoo_plugins.lista_msn.config import ListaMSNConfig
from zoo_plugins.lista_msn.model import ListaMSN


def example_inputs(config: ListaMSNConfig) -> dict[str, torch.Tensor]:
    """Four signals ``x ~ N(0, I_n)`` (seeded)."""
    return {"x": torch.randn(4, config.n, generator=torch.Generator().manual_seed(0))}


@torch.no_grad()
def infer(model: ListaMSN, inputs: Mapping[str, torch.Tensor], config: ListaMSNConfig,
          options: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """``codes [B, m]`` (``options.codes``: ``mode`` = mu of the most probable kernel, ``sample`` = the centre
    of a kernel drawn by alpha; plain LISTA returns z_hat), ``z_hat`` and, with the MSN, ``alpha [B, M]``."""
    x = inputs["x"]
    if x.shape[1] != config.n:
        raise InputError(f"lista-msn: input 'x' must be (B, {config.n}), got {tuple(x.shape)}")
    was_training = model.training
    model.eval()
    try:
        z_hat, mixture = model(x.float())
        out = {"z_hat": z_hat}
        if mixture is None:
            out["codes"] = z_hat
        else:
            how = options.get("codes", "mode")
            out["codes"] = mixture.mode() if how == "mode" else mixture.sample(torch.Generator().manual_seed(0))
            out["alpha"] = mixture.alpha
    finally:
        model.train(was_training)
    return out
