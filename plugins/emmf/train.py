"""EMMF's Algorithm 1 through the shared trainer: each step is one full-batch iteration (identity input),
an Adam step of the autoencoder on L_1 = L_R + lambda_d L_RD, then an Adam step of the discriminators on L_D;
then k-means on H."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from zoo.clustering import clustering_scores, kmeans
from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.errors import ConfigError, InputError
from zoo_plugins.emmf.config import EMMFConfig
from zoo_plugins.emmf.data import MultiViewData
from zoo_plugins.emmf.losses import autoencoder_loss, discriminator_loss
from zoo_plugins.emmf.model import EMMF


def check_data(data: Any, config: EMMFConfig) -> MultiViewData:
    """``data`` must be a :class:`MultiViewData` with the variant's sizes."""
    if not isinstance(data, MultiViewData):
        raise ConfigError(f"emmf trains on a MultiViewData (zoo.make_data), got {type(data).__name__}")
    dims = tuple(int(v.shape[1]) for v in data.views)
    if dims != tuple(config.view_dims) or data.num_samples != config.num_samples:
        raise InputError(f"emmf: the data has {data.num_samples} samples and views {dims}; this variant expects "
                         f"{config.num_samples} and {tuple(config.view_dims)}")
    return data


def make_step(config: EMMFConfig, disc_opt: torch.optim.Optimizer) -> Any:
    """One iteration of Algorithm 1 (lines 2-6)."""

    def step_fn(model: EMMF, batch: MultiViewData, opt: torch.optim.Optimizer) -> dict[str, float]:
        views = batch.views
        h = model.representation()
        recon = model.reconstruct(h)
        fakes = [model.discriminate(p, r) for p, r in enumerate(recon)] if config.lambda_d else []
        loss, logs = autoencoder_loss(views, recon, fakes, config.lambda_d, config.dist)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        logs["loss"] = float(loss.detach())
        if config.lambda_d:
            disc_opt.zero_grad(set_to_none=True)
            detached = [r.detach() for r in recon]
            if config.dist == "bce":
                detached = [torch.sigmoid(r) for r in detached]
            l_d = discriminator_loss([model.discriminate(p, x) for p, x in enumerate(views)],
                                     [model.discriminate(p, r) for p, r in enumerate(detached)])
            l_d.backward()
            disc_opt.step()
            logs["l_d"] = float(l_d.detach())
        return logs

    return step_fn


def train(model: EMMF, data: Any, config: EMMFConfig, options: Any = None,
          callbacks: Sequence[Any] = ()) -> TrainResult:
    """``config.iterations`` steps (``options.steps`` overrides), then k-means on H (centres stored in the model).
    Metrics: the last losses and ACC / NMI / ARI when the data has labels; ``extra``: H and the cluster labels."""
    data = check_data(data, config)
    generator = [*model.encoder.parameters(), *model.decoders.parameters()]
    opt = torch.optim.Adam(generator, lr=config.lr)
    disc_opt = torch.optim.Adam(model.discriminators.parameters(), lr=config.disc_lr)
    recipe = Recipe(steps=config.iterations, batch_size=1, lr=config.lr, optimizer="adam", shuffle=False)
    result = fit(model, data, None, recipe, options, collate=lambda items: items[0], callbacks=callbacks,
                 optimizer=opt, step_fn=make_step(config, disc_opt))
    seed = int(getattr(options, "seed", 0) or 0)
    with torch.no_grad():
        h = model.representation()
    km = kmeans(h.double(), config.num_clusters, n_init=config.kmeans_init, seed=seed)
    model.centers.copy_(km.centers.to(model.centers.dtype))
    if data.labels is not None:
        result.metrics.update(clustering_scores(data.labels, km.labels))
    result.extra.update({"representation": h, "labels": km.labels})
    return result


def evaluate(model: EMMF, data: Any, config: EMMFConfig) -> dict[str, float]:
    """ACC / NMI / ARI of the stored clusters against the data's labels."""
    data = check_data(data, config)
    if data.labels is None:
        raise InputError("emmf: evaluation needs labelled data")
    with torch.no_grad():
        h = model.representation().double()
    pred = torch.cdist(h, model.centers.double()).argmin(1)
    return clustering_scores(data.labels, pred)
