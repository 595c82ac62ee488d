"""tpSGD against back-propagation on the same networks (MLP, CNN, RNN, 2-layer RNN), digits, side by side.

    python -m zoo_plugins.tpsgd.compare --steps 600 --seeds 3

The paper's claim: "comparably to BP gradient-descent within 5% accuracy on relatively shallow networks of fully
connected layers, convolutional layers, and recurrent layers".
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics

import torch

from zoo.engines.local_learning.data import image_data
from zoo.options import TrainOptions
from zoo_plugins.tpsgd.config import cnn, rnn, rnn2, tiny
from zoo_plugins.tpsgd.model import TpSGDNet
from zoo_plugins.tpsgd.train import accuracy, train


def main() -> None:
    """Print test accuracy of tpSGD and BP per architecture and their gap."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    train_set, test_set = image_data(tiny(), "digits", "train"), image_data(tiny(), "digits", "test")
    print(f"{'network':<8} {'tpSGD':>17} {'BP':>17} {'gap':>7}")
    for name, base in (("MLP", tiny()), ("CNN", cnn()), ("RNN", rnn()), ("RNN x2", rnn2())):
        accs: dict[str, list[float]] = {"tpsgd": [], "bp": []}
        for seed in range(args.seeds):
            for rule in accs:
                config = dataclasses.replace(base, rule=rule)
                torch.manual_seed(seed)
                model = TpSGDNet(config)
                train(model, train_set, config, TrainOptions(steps=args.steps, seed=seed, progress=False))
                accs[rule].append(accuracy(model, test_set))
        cols = [f"{statistics.mean(v):.4f} ± {statistics.stdev(v) if len(v) > 1 else 0.0:.4f}" for v in accs.values()]
        gap = statistics.mean(accs["bp"]) - statistics.mean(accs["tpsgd"])
        print(f"{name:<8} {cols[0]:>17} {cols[1]:>17} {gap:7.4f}")
    print(f"(digits, {args.steps} steps, batch 32, SGD momentum 0.9, {args.seeds} seed(s), same initial weights)")


if __name__ == "__main__":
    main()
