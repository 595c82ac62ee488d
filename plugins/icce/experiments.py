"""Accuracy under synthetic label noise on digits (the paper's Tables 1-2 protocol at CPU scale): CE, MAE, GCE and
ICCE (T = 4) on the same network, data, noisy labels, recipe and seeds; test accuracy on the clean labels.

    python -m zoo_plugins.icce.experiments --seeds 0 1 2
"""
from __future__ import annotations

import argparse
from dataclasses import replace

import torch

import zoo
from zoo.options import TrainOptions
from zoo_plugins.icce.config import tiny
from zoo_plugins.icce.data import make_data
from zoo_plugins.icce.train import evaluate, train

SETTINGS: tuple[tuple[str, float], ...] = (("uniform", 0.0), ("uniform", 0.2), ("uniform", 0.4), ("class", 0.2),
                                           ("class", 0.4))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--losses", nargs="+", default=["ce", "mae", "gce", "icce"])
    parser.add_argument("--epochs", type=int, default=None, help="default: the tiny variant's")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    table: dict[tuple[str, str, float], list[float]] = {}
    for kind, rate in SETTINGS:
        for loss in args.losses:
            for seed in args.seeds:
                config = replace(tiny(), loss=loss, noise=kind, noise_rate=rate, noise_seed=seed)
                if args.epochs:
                    config = replace(config, epochs=args.epochs)
                model = zoo.build("icce-loss-tiny", config=config, seed=seed)
                train(model, make_data(config, "digits", "train"), config, TrainOptions(progress=False, seed=seed))
                acc = evaluate(model, make_data(config, "digits", "test"))["accuracy"]
                table.setdefault((loss, kind, rate), []).append(acc)
                print(f"{kind:7s} {rate:.1f} {loss:5s} seed {seed}: {100 * acc:.1f}", flush=True)
    print(f"\nDigits test accuracy (%), mean +- std over seeds {args.seeds}")
    header = " | ".join(f"{k} {r:.1f}" for k, r in SETTINGS)
    print(f"{'loss':5s} | {header}")
    for loss in args.losses:
        cells = []
        for kind, rate in SETTINGS:
            v = torch.tensor(table[(loss, kind, rate)]) * 100
            cells.append(f"{v.mean():5.1f} +- {v.std() if len(v) > 1 else 0.0:3.1f}")
        print(f"{loss:5s} | " + " | ".join(cells))


if __name__ == "__main__":
    main()
