"""ANMMF's Algorithm 1 (its own loop: multiplicative updates, no gradients), the final multi-view clustering, and
evaluation with ACC / NMI / ARI."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from zoo.clustering import LabelledMatrix, clustering_scores, kmeans, multiview_kmeans
from zoo.engines.recipe import TrainResult
from zoo.errors import ConfigError, InputError
from zoo.graphs import knn_graph, laplacian
from zoo_plugins.anmmf.config import ANMMFConfig
from zoo_plugins.anmmf.losses import objective, sweep, update_u, update_v
from zoo_plugins.anmmf.model import ANMMFModel


@dataclass
class Factorization:
    """The learned ``U_i (D, m)`` and ``V_i (n, m)``, the objective per iteration and its terms at the end."""

    us: list[torch.Tensor]
    vs: list[torch.Tensor]
    history: list[float] = field(default_factory=list)
    terms: dict[str, float] = field(default_factory=dict)


def random_factors(x: torch.Tensor, rank: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's ``init="random"`` scale: ``|N(0, 1)| * sqrt(mean(X) / m)`` for ``U (D, m)`` and ``V (n, m)``."""
    d, n = x.shape
    scale = float(x.mean().clamp_min(1e-12) / rank) ** 0.5
    u = scale * torch.randn(d, rank, generator=generator, dtype=x.dtype).abs()
    v = scale * torch.randn(n, rank, generator=generator, dtype=x.dtype).abs()
    return u, v


def nmf_init(x: torch.Tensor, rank: int, iterations: int, generator: torch.Generator,
             eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Standard NMF (Lee & Seung multiplicative updates) from a random start: Algorithm 1's initialisation."""
    u, v = random_factors(x, rank, generator)
    empty = torch.zeros(0)
    for _ in range(iterations):
        u = update_u(x, u, v, eps)
        v = update_v(x, u, v, None, empty, 0.0, 0.0, eps)
    return u, v


def graph_weights(samples: torch.Tensor, config: ANMMFConfig) -> torch.Tensor:
    """The kNN heat-kernel graph ``W (n, n)`` on the samples (rows), symmetrised (GNMF's "or" graph)."""
    k = min(config.knn, samples.shape[0] - 1)
    return knn_graph(samples, k, weighting="heat", t=config.heat_t, symmetrize_with="max")


def factorize(x: torch.Tensor, config: ANMMFConfig, *, seed: int = 0, max_iter: int | None = None,
              w: torch.Tensor | None = None) -> Factorization:
    """Algorithm 1 on ``x (D, n)``: NMF initialisation of every attribute, then sweeps of Eq. 11 / Eq. 14 until the
    relative change of the objective is below ``config.tol`` (or ``max_iter``)."""
    if bool((x < 0).any()):
        raise InputError("ANMMF factorises non-negative data; x has negative entries")
    g = torch.Generator().manual_seed(seed)
    w = graph_weights(x.T, config) if w is None else w
    w = w.to_sparse().coalesce() if not w.is_sparse else w  # a kNN graph: products as SpMM
    lap = laplacian(w)
    us, vs = [], []
    for _ in range(config.num_attributes):
        u, v = nmf_init(x, config.rank, config.init_iter, g, config.eps)
        us.append(u)
        vs.append(v)
    l1 = config.lambda1 if config.num_attributes > 1 else 0.0
    history = [objective(x, us, vs, lap, l1, config.lambda2)["objective"]]
    iterations = config.max_iter if max_iter is None else max_iter
    for _ in range(iterations):
        sweep(x, us, vs, w, l1, config.lambda2, config.eps, sqrt=config.update == "sqrt")
        history.append(objective(x, us, vs, lap, l1, config.lambda2)["objective"])
        if abs(history[-2] - history[-1]) < config.tol * abs(history[-2]):
            break
    return Factorization(us, vs, history, objective(x, us, vs, lap, l1, config.lambda2))


def cluster(vs: Sequence[torch.Tensor], config: ANMMFConfig, seed: int = 0
            ) -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor]:
    """Final clustering of the representations: ``(labels, per-attribute centres, view weights)``."""
    if config.clustering == "multiview" and len(vs) > 1:
        r = multiview_kmeans(list(vs), config.num_clusters, gamma=config.mv_gamma, seed=seed,
                             n_init=config.kmeans_init)
        return r.labels, r.centers, r.view_weights
    km = kmeans(torch.cat(list(vs), 1), config.num_clusters, n_init=config.kmeans_init, seed=seed)
    centres = list(torch.split(km.centers, [v.shape[1] for v in vs], dim=1))
    return km.labels, centres, torch.full((len(vs),), 1.0 / len(vs), dtype=vs[0].dtype)


def _data_matrix(data: Any, config: ANMMFConfig) -> tuple[torch.Tensor, torch.Tensor | None]:
    if isinstance(data, LabelledMatrix):
        x, labels = data.x, data.labels
    elif isinstance(data, torch.Tensor):
        x, labels = data, None
    else:
        raise ConfigError(f"anmmf trains on a LabelledMatrix (zoo.make_data) or an (n, D) tensor, got {type(data)}")
    if x.dim() != 2 or x.shape[1] != config.input_dim:
        raise InputError(f"anmmf: data must be (n, {config.input_dim}), got {tuple(x.shape)}")
    if x.shape[0] <= config.num_clusters:
        raise InputError(f"anmmf: {x.shape[0]} samples cannot form {config.num_clusters} clusters")
    return x.to(torch.float64), labels


def train(model: ANMMFModel, data: Any, config: ANMMFConfig, options: Any = None) -> TrainResult:
    """Factorise the data (Algorithm 1), cluster ``{V_i}`` and store ``U_i`` and the centres in the model.

    ``options.steps`` overrides ``max_iter``, ``options.seed`` seeds initialisation and k-means, and
    ``options.out_dir`` receives ``history.json``. Metrics: the final objective terms, and ACC/NMI/ARI when the
    data has labels. ``result.extra``: the training representations ``vs`` and cluster ``labels``."""
    x, labels = _data_matrix(data, config)
    seed = int(getattr(options, "seed", 0) or 0)
    steps = getattr(options, "steps", None)
    fac = factorize(x.T, config, seed=seed, max_iter=steps)
    pred, centres, alpha = cluster(fac.vs, config, seed)
    with torch.no_grad():
        model.bases.copy_(torch.stack(fac.us))
        model.centers.copy_(torch.stack(centres))
        model.view_weights.copy_(alpha)
    metrics = {k: float(v) for k, v in fac.terms.items()}
    if labels is not None:
        metrics.update(clustering_scores(labels, pred))
    history = {"objective": fac.history}
    out_dir = getattr(options, "out_dir", None)
    if out_dir:
        from zoo.io import atomic_write_json

        Path(out_dir).mkdir(parents=True, exist_ok=True)
        atomic_write_json(Path(out_dir) / "history.json", {"history": history, "metrics": metrics})
    return TrainResult(history=history, metrics=metrics, steps=len(fac.history) - 1,
                       extra={"vs": fac.vs, "labels": pred})


def evaluate(model: ANMMFModel, data: Any, config: ANMMFConfig) -> dict[str, float]:
    """ACC / NMI / ARI of the model's clusters on labelled data (samples represented with the learned bases)."""
    x, labels = _data_matrix(data, config)
    if labels is None:
        raise InputError("anmmf: evaluation needs labelled data")
    pred = model.assign(model.represent(x))
    return clustering_scores(labels, pred)
