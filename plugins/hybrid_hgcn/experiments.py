"""HybridHGCN vs HGNN on Zachary's karate club and on a stochastic-block-model hypergraph: mean test accuracy
over seeded label splits (the paper's Tables 4-6 protocol: the same splits for both models, varying label rate).

    nice -n 10 .venv/bin/python -m zoo_plugins.hybrid_hgcn.experiments --splits 20 --epochs 100 200
"""
from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
import torch
import torch.nn.functional as F

from zoo_plugins.hybrid_hgcn.config import HybridHGCNConfig, hgnn, tiny
from zoo_plugins.hybrid_hgcn.data import HypergraphData, karate, sbm
from zoo_plugins.hybrid_hgcn.model import HybridHGCN


def run(cfg: HybridHGCNConfig, data: HypergraphData, seed: int, epochs: int) -> float:
    """Full-batch Adam for ``epochs`` steps from seed ``seed``; test accuracy."""
    torch.manual_seed(seed)
    model = HybridHGCN(cfg)
    ops = model.operators(data.incidence)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    for _ in range(epochs):
        opt.zero_grad()
        F.cross_entropy(model(data.features, ops)[data.train_mask], data.labels[data.train_mask]).backward()
        opt.step()
    pred = model.eval()(data.features, ops).argmax(1)
    return float((pred[data.test_mask] == data.labels[data.test_mask]).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--splits", type=int, default=20)
    parser.add_argument("--epochs", type=int, nargs="+", default=[100, 200])
    parser.add_argument("--labels", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{'graph':8s} {'labels/class':>12s} {'epochs':>6s} {'HybridHGCN':>15s} {'HGNN':>15s}  wins/ties/losses")
    graphs = {"karate": (lambda per, s: karate(per, s), {}),
              "sbm": (lambda per, s: sbm(labels_per_class=per, seed=s), {"in_features": 16, "num_classes": 3})}
    for name, (make, sizes) in graphs.items():
        for per in args.labels:
            for epochs in args.epochs:
                h = np.array([run(replace(tiny(), **sizes), make(per, s), s, epochs) for s in range(args.splits)])
                g = np.array([run(replace(hgnn(), **sizes), make(per, s), s, epochs) for s in range(args.splits)])
                d = h - g
                print(f"{name:8s} {per:12d} {epochs:6d} {h.mean():.4f}+-{h.std():.4f} {g.mean():.4f}+-{g.std():.4f}"
                      f"  {(d > 0).sum()}/{(d == 0).sum()}/{(d < 0).sum()}", flush=True)


if __name__ == "__main__":
    main()
