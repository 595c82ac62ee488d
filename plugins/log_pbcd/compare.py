"""LOG-PBCD against the methods the paper compares it with, on digits, side by side in one run.

    python -m zoo_plugins.log_pbcd.compare --iterations 60 --seeds 3

Prints train/test accuracy after the same number of full-batch iterations for LOG-PBCD (Eq. 17 thresholding),
LOG-PBCD with the exact log prox, proximal BCD without the log regulariser (lam = 0) and full-batch SGD
(learning rate 0.1, the paper's baseline), all from the same initial weights, plus the activation sparsity.
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics

import torch

from zoo.options import TrainOptions
from zoo_plugins.log_pbcd.config import LogPBCDConfig, tiny
from zoo.engines.local_learning.data import image_data as make_data
from zoo_plugins.log_pbcd.model import LogPBCDNet
from zoo_plugins.log_pbcd.train import accuracy, sgd_baseline, train


def run(config: LogPBCDConfig, iterations: int, seed: int) -> dict[str, dict[str, float]]:
    """Every method's final train/test accuracy (and sparsity) for one seed."""
    train_set, test_set = make_data(config, "digits", "train"), make_data(config, "digits", "test")
    out: dict[str, dict[str, float]] = {}
    variants = {"LOG-PBCD (Eq. 17)": config, "LOG-PBCD (exact prox)": dataclasses.replace(config, prox="exact"),
                "proximal BCD (lam = 0)": dataclasses.replace(config, lam=0.0)}
    for name, cfg in variants.items():
        torch.manual_seed(seed)
        net = LogPBCDNet(cfg)
        result = train(net, (train_set, test_set), cfg, TrainOptions(steps=iterations, seed=seed, progress=False))
        out[name] = {"train": result.metrics["train_accuracy"], "test": result.metrics["test_accuracy"],
                     "sparsity": result.metrics["sparsity"]}
    for lr in (config.sgd_lr, 1.0):
        torch.manual_seed(seed)
        net = LogPBCDNet(config)
        sgd_baseline(net, train_set, iterations, lr)
        out[f"full-batch SGD (lr {lr:g})"] = {"train": accuracy(net, train_set), "test": accuracy(net, test_set),
                                              "sparsity": float("nan")}
    return out


def main() -> None:
    """Print the comparison table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    runs = [run(tiny(), args.iterations, seed) for seed in range(args.seeds)]
    print(f"{'method':<28} {'train acc':>17} {'test acc':>17} {'sparsity':>9}")
    for name in runs[0]:
        cols = []
        for key in ("train", "test"):
            vals = [r[name][key] for r in runs]
            sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
            cols.append(f"{statistics.mean(vals):.4f} ± {sd:.4f}")
        sparsity = statistics.mean(r[name]["sparsity"] for r in runs)
        print(f"{name:<28} {cols[0]:>17} {cols[1]:>17} {sparsity:9.3f}")
    print(f"(digits 64-100-100-10, {args.iterations} full-batch iterations, {args.seeds} seed(s), same initial "
          "weights per seed)")


if __name__ == "__main__":
    main()
