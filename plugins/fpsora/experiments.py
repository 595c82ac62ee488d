"""FPSORA vs PCA and LPP on scikit-learn's digits (the paper's Table 2 protocol: k-means repeated on each
embedding, mean Acc / NMI, several reduced dimensions), plus the objective's monotone decrease (Fig. 5).

    nice -n 10 .venv/bin/python -m zoo_plugins.fpsora.experiments --samples 400 --dims 10 20 40 --repeats 20
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np
import torch

from zoo.clustering import clustering_scores, digits_matrix, kmeans
from zoo_plugins.fpsora.baselines import lpp
from zoo_plugins.fpsora.config import FPSORAConfig, digits as digits_config
from zoo_plugins.fpsora.train import embed, heat_width
from zoo.graphs import knn_indices


def scores(y: torch.Tensor, labels: torch.Tensor, k: int, repeats: int) -> tuple[float, float, float, float]:
    """Mean and std of Acc and NMI over ``repeats`` single-start k-means runs (the paper's protocol)."""
    runs = [clustering_scores(labels, kmeans(y, k, n_init=1, seed=s).labels) for s in range(repeats)]
    acc, nmi = np.array([r["acc"] for r in runs]), np.array([r["nmi"] for r in runs])
    return acc.mean(), acc.std(), nmi.mean(), nmi.std()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--dims", type=int, nargs="+", default=[10, 20, 40])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--iters", type=int, default=30)
    parser.add_argument("--knn", type=int, default=5)
    parser.add_argument("--sigma-scale", type=float, default=0.5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = digits_matrix(args.samples)
    xc = data.x - data.x.mean(0)
    raw = scores(data.x, data.labels, 10, args.repeats)
    print(f"digits n={len(data)}, k={args.knn}, sigma_scale={args.sigma_scale}, {args.iters} iterations, "
          f"k-means x{args.repeats}; raw pixels: Acc {raw[0]:.4f}+-{raw[1]:.4f} NMI {raw[2]:.4f}+-{raw[3]:.4f}")
    print(f"{'d':>4s} {'method':8s} {'Acc':>16s} {'NMI':>16s}  objective start -> end (rises)  time")
    for dim in args.dims:
        cfg: FPSORAConfig = replace(digits_config(), num_samples=args.samples, dim=dim, knn=args.knn,
                                    sigma_scale=args.sigma_scale, max_iter=args.iters, tol=0.0)
        t0 = time.time()
        emb = embed(data.x, cfg)
        spent = time.time() - t0
        rises = sum(b > a * (1 + 1e-12) for a, b in zip(emb.history, emb.history[1:]))
        _, sq = knn_indices(xc, cfg.knn)
        y_lpp = xc @ lpp(xc, dim, cfg.knn, heat_width(sq, cfg))
        for name, y, extra in (("PCA", emb.y0, ""), ("LPP", y_lpp, ""),
                               ("FPSORA", emb.y, f"{emb.history[0]:.4g} -> {emb.history[-1]:.4g} ({rises})"
                                                 f"  {spent:.0f}s")):
            a, sa, m, sm = scores(y, data.labels, 10, args.repeats)
            print(f"{dim:4d} {name:8s} {a:.4f}+-{sa:.4f}  {m:.4f}+-{sm:.4f}  {extra}", flush=True)


if __name__ == "__main__":
    main()
