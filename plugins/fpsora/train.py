"""FPSORA's workflow (its own loop, no gradients): the kNN heat-kernel graph and ``L_A``, the initial projection,
alternating re-weighting and projection search, then the projection matrix of Eq. 13 and k-means."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from zoo.clustering import LabelledMatrix, clustering_scores, kmeans
from zoo.engines.recipe import TrainResult
from zoo.errors import ConfigError, InputError
from zoo.graphs import heat_kernel, knn_indices
from zoo_plugins.fpsora.baselines import lpp, pca
from zoo_plugins.fpsora.config import FPSORAConfig
from zoo_plugins.fpsora.losses import anchor_laplacian, fpsora_iterations
from zoo_plugins.fpsora.model import FPSORAModel


@dataclass
class Embedding:
    """The final embedding ``y (n, d)``, the initial one ``y0``, the projection ``P (p, d)`` reproducing ``y`` by
    least squares (Eq. 13), the data mean, and the objective ``tr(Y^T L_A Y)`` per iteration."""

    y: torch.Tensor
    y0: torch.Tensor
    projection: torch.Tensor
    mean: torch.Tensor
    history: list[float]


def heat_width(sq: torch.Tensor, config: FPSORAConfig) -> float:
    """``t = 2 sigma^2`` of Eq. 1 (``sigma=None``: ``sigma_scale^2`` times the mean squared kNN distance)."""
    if config.sigma is not None:
        return 2.0 * config.sigma ** 2
    return config.sigma_scale ** 2 * float(sq.mean().clamp_min(1e-12))


def embed(x: torch.Tensor, config: FPSORAConfig, max_iter: int | None = None) -> Embedding:
    """Run FPSORA on the rows of ``x (n, p)`` (see :mod:`zoo_plugins.fpsora.losses`)."""
    n, p = x.shape
    if config.dim > min(n - 1, p):
        raise InputError(f"fpsora: d = {config.dim} must be at most min(n - 1, p) = {min(n - 1, p)}")
    mean = x.mean(0)
    xc = x - mean
    nbrs, sq = knn_indices(xc, config.knn)
    t = heat_width(sq, config)
    lap_a = anchor_laplacian(heat_kernel(sq, t), nbrs)
    p0 = pca(xc, config.dim) if config.init == "pca" else lpp(xc, config.dim, config.knn, t)
    y0 = xc @ p0
    iters = config.max_iter if max_iter is None else max_iter
    y, history = fpsora_iterations(y0, nbrs, lap_a, iters, config.tol, config.eps, config.rcond)
    # P = (X^T)^+ Y (Eq. 13), exact when p >= n; gelsd (SVD) because X is often rank-deficient (constant pixels),
    # where this torch's default lstsq driver silently returns zeros
    projection = torch.linalg.lstsq(xc, y, driver="gelsd").solution
    return Embedding(y, y0, projection, mean, history)


def _matrix(data: Any, config: FPSORAConfig) -> tuple[torch.Tensor, torch.Tensor | None]:
    if isinstance(data, LabelledMatrix):
        x, labels = data.x, data.labels
    elif isinstance(data, torch.Tensor):
        x, labels = data, None
    else:
        raise ConfigError(f"fpsora trains on a LabelledMatrix (zoo.make_data) or an (n, p) tensor, got {type(data)}")
    if x.dim() != 2 or x.shape[1] != config.input_dim:
        raise InputError(f"fpsora: data must be (n, {config.input_dim}), got {tuple(x.shape)}")
    return x.to(torch.float64), labels


def train(model: FPSORAModel, data: Any, config: FPSORAConfig, options: Any = None) -> TrainResult:
    """Embed the data, cluster the embedding with k-means, and store ``P``, the mean and the centres.

    ``options.steps`` overrides ``max_iter``; ``options.seed`` seeds k-means; ``options.out_dir`` receives
    ``history.json``. Metrics: the objective before and after, and ACC / NMI when the data has labels;
    ``result.extra``: the embedding and the cluster labels."""
    x, labels = _matrix(data, config)
    seed = int(getattr(options, "seed", 0) or 0)
    emb = embed(x, config, getattr(options, "steps", None))
    km = kmeans(emb.y, config.num_clusters, n_init=config.kmeans_init, seed=seed)
    with torch.no_grad():
        model.mean.copy_(emb.mean)
        model.projection.copy_(emb.projection)
        model.centers.copy_(km.centers)
    metrics = {"objective_start": emb.history[0], "objective_end": emb.history[-1]}
    if labels is not None:
        metrics.update(clustering_scores(labels, km.labels))
    out_dir = getattr(options, "out_dir", None)
    if out_dir:
        from zoo.io import atomic_write_json

        Path(out_dir).mkdir(parents=True, exist_ok=True)
        atomic_write_json(Path(out_dir) / "history.json", {"objective": emb.history, "metrics": metrics})
    return TrainResult(history={"objective": emb.history}, metrics=metrics, steps=len(emb.history) - 1,
                       extra={"embedding": emb.y, "labels": km.labels})


def evaluate(model: FPSORAModel, data: Any, config: FPSORAConfig) -> dict[str, float]:
    """ACC / NMI / ARI of the model's clusters (samples embedded with the learned ``P``)."""
    x, labels = _matrix(data, config)
    if labels is None:
        raise InputError("fpsora: evaluation needs labelled data")
    return clustering_scores(labels, model.cluster(x))
