"""SARG vs its base model (ARG: the same head without subgraph extraction) on synthetic actor tracks, for the
fusions of Table 2; group-activity accuracy on held-out clips and the key actors' share of the extracted
subgraph (Table 1's protocol at small scale).

    nice -n 10 .venv/bin/python -m zoo_plugins.sarg.experiments --steps 800 --seeds 0 1 --fusions maxpool addpool
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

import zoo
from zoo_plugins.sarg.train import evaluate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--fusions", nargs="+", default=["maxpool", "addpool"])
    parser.add_argument("--attentions", nargs="+", default=["gcn", "none"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"synthetic tracks: 12 actors x 3 frames, 4 activities, 2,000 train / 500 test clips; {args.steps} steps")
    print(f"{'fusion':10s} {'attention':9s} {'activity acc':>16s} {'action acc':>10s} {'key recall':>10s}  per seed")
    for fusion in args.fusions:
        for attention in args.attentions:
            runs = []
            for seed in args.seeds:
                model = zoo.build("sarg-tiny", seed=seed, fusion=fusion, attention=attention)
                zoo.train(model, zoo.make_data(model, "synthetic", "train"), steps=args.steps, seed=seed,
                          progress=False)
                runs.append(evaluate(model, zoo.make_data(model, "synthetic", "test")))
            acc = np.array([r["activity_accuracy"] for r in runs])
            recall = np.mean([r.get("key_recall", float("nan")) for r in runs])
            print(f"{fusion:10s} {attention:9s} {acc.mean():.4f}+-{acc.std():.4f} "
                  f"{np.mean([r['action_accuracy'] for r in runs]):10.4f} {recall:10.3f}  {np.round(acc, 3).tolist()}",
                  flush=True)


if __name__ == "__main__":
    main()
