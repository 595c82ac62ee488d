"""Side-by-side test accuracy of FedAvg, FedProx and SCAFFOLD (tiny variants) on digits, over several seeds.

Run:  .venv/bin/python -m zoo_plugins.fl_baselines.compare [--seeds 0 1 2] [--rounds 30]

Each seed changes the Dirichlet(0.3) partition over 10 clients, the batches and the model initialisation; all
three methods see the same partition and initial model for a given seed.
"""
from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
import torch


def main() -> None:
    """Print one row per method: accuracy per seed, mean and standard deviation."""
    import zoo
    from zoo_plugins.fl_baselines.data import make_data
    from zoo_plugins.fl_baselines.train import make_simulator

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    base = zoo.get_config("fedavg-tiny")
    train, test = make_data(base, "digits", "train"), make_data(base, "digits", "test")
    print(f"digits, {base.num_clients} clients, Dirichlet({base.alpha}), {args.rounds} rounds, "
          f"{base.local_steps} local steps x batch {base.batch_size}, lr {base.lr}")
    print(f"{'method':10s} " + " ".join(f"seed{s:<3d}" for s in args.seeds) + "   mean    std   MB/round")
    for method in ("fedavg", "fedprox", "scaffold"):
        accs, mb = [], 0.0
        for seed in args.seeds:
            cfg = replace(zoo.get_config(f"{method}-tiny"), seed=seed)
            sim = make_simulator(zoo.build(f"{method}-tiny", seed=seed), train, cfg, test)
            hist = sim.run(args.rounds, eval_every=args.rounds)
            accs.append(hist.rounds[-1].metrics["accuracy"])
            mb = hist.total_bytes / args.rounds / 1e6
        print(f"{method:10s} " + " ".join(f"{a:.4f} " for a in accs) + f"  {np.mean(accs):.4f} {np.std(accs):.4f}"
              f"   {mb:.2f}")


if __name__ == "__main__":
    main()
