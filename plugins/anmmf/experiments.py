"""ANMMF vs its special cases NMF and GNMF on scikit-learn's digits (the paper's Table 2 protocol: same k-means
stage, several seeds, mean ACC / NMI), plus each attribute ``V_i`` clustered alone (Table 3) and the objective's
monotone decrease (Fig. 3).

    nice -n 10 .venv/bin/python -m zoo_plugins.anmmf.experiments --samples 1797 --seeds 5 --iters 100
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np
import torch

from zoo.clustering import clustering_scores, kmeans
from zoo_plugins.anmmf.config import ANMMFConfig, digits as digits_config
from zoo_plugins.anmmf.data import digits
from zoo_plugins.anmmf.train import cluster, factorize


def run(cfg: ANMMFConfig, x: torch.Tensor, y: torch.Tensor, seed: int) -> dict[str, float]:
    """Factorise, cluster, score; plus whether the objective ever rose and each attribute's own ACC."""
    fac = factorize(x.T, cfg, seed=seed)
    labels, _, _ = cluster(fac.vs, cfg, seed)
    out = clustering_scores(y, labels)
    h = fac.history
    out["rises"] = float(sum(b > a * (1 + 1e-12) for a, b in zip(h, h[1:])))
    out["iterations"] = float(len(h) - 1)
    for i, v in enumerate(fac.vs):
        out[f"acc_V{i + 1}"] = clustering_scores(y, kmeans(v, cfg.num_clusters, seed=seed).labels)["acc"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=1797)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--iters", type=int, default=100)
    parser.add_argument("--lambda1", type=float, default=None)
    parser.add_argument("--lambda2", type=float, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = digits(None if args.samples >= 1797 else args.samples)
    base = replace(digits_config(), max_iter=args.iters)
    if args.lambda1 is not None:
        base = replace(base, lambda1=args.lambda1)
    if args.lambda2 is not None:
        base = replace(base, lambda2=args.lambda2)
    methods = {
        "NMF": replace(base, num_attributes=1, lambda1=0.0, lambda2=0.0),
        "GNMF": replace(base, num_attributes=1, lambda1=0.0),
        "MCNMF (l2 = 0)": replace(base, lambda2=0.0),
        "ANMMF": base,
    }
    print(f"digits n={len(data)}, m={base.rank}, k={base.knn}, lambda1={base.lambda1}, lambda2={base.lambda2}, "
          f"{args.iters} iterations max, seeds 0..{args.seeds - 1}")
    print(f"{'method':16s} {'ACC':>14s} {'NMI':>14s} {'ARI':>14s}  rises  per-attribute ACC   time/run")
    for name, cfg in methods.items():
        t0 = time.time()
        runs = [run(cfg, data.x, data.labels, s) for s in range(args.seeds)]
        per = (time.time() - t0) / args.seeds

        def ms(key: str) -> str:
            vals = np.array([r[key] for r in runs])
            return f"{vals.mean():.4f}+-{vals.std():.4f}"

        attrs = " ".join(f"{np.mean([r[f'acc_V{i + 1}'] for r in runs]):.3f}" for i in range(cfg.num_attributes))
        print(f"{name:16s} {ms('acc'):>14s} {ms('nmi'):>14s} {ms('ari'):>14s}  {int(sum(r['rises'] for r in runs)):5d}"
              f"  {attrs:18s} {per:6.1f}s", flush=True)


if __name__ == "__main__":
    main()
