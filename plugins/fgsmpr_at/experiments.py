"""Catastrophic overfitting on digits: PGD robust accuracy over epochs for FGSM AT, FAST-FGSM AT, FGSMPR AT and
PGD AT, side by side (same network, data, recipe and seed; only the training objective changes).

    python -m zoo_plugins.fgsmpr_at.experiments --epochs 30 --seeds 0 1 2
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace

import torch

import zoo
from zoo.options import TrainOptions
from zoo_plugins.fgsmpr_at.config import FGSMPRConfig, tiny
from zoo_plugins.fgsmpr_at.data import make_data
from zoo_plugins.fgsmpr_at.train import train

MODES: tuple[str, ...] = ("fgsm", "fast_fgsm", "fgsmpr", "pgd")


def run(config: FGSMPRConfig, seed: int, eval_every: int) -> tuple[dict[str, list[float]], float]:
    """Train one seed; return the eval history (per ``eval_every`` steps) and the training seconds."""
    model = zoo.build("fgsmpr-at-tiny", config=config, seed=seed)
    data, test = make_data(config, "digits", "train"), make_data(config, "digits", "test")
    start = time.perf_counter()
    result = train(model, data, config, TrainOptions(seed=seed, progress=False, eval_every=eval_every),
                   eval_data=test)
    return result.history, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epsilon", type=float, default=0.3)
    parser.add_argument("--modes", nargs="+", default=list(MODES))
    parser.add_argument("--every", type=int, default=5, help="evaluate every N epochs")
    parser.add_argument("--width", type=int, default=1, help="conv width multiplier of the MNIST CNN")
    parser.add_argument("--lam", type=float, default=None, help="FGSMPR's lambda (default: the variant's)")
    parser.add_argument("--train-pgd-steps", type=int, default=10, help="K of the PGD-AT baseline")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    base = replace(tiny(), epochs=args.epochs, epsilon=args.epsilon, width=args.width,
                   train_pgd_steps=args.train_pgd_steps, train_pgd_alpha=2.5 * args.epsilon / args.train_pgd_steps,
                   eval_alpha=args.epsilon / 4)
    if args.lam is not None:
        base = replace(base, lam=args.lam)
    per_epoch = -(-1347 // base.batch_size)
    rows = []
    for mode in args.modes:
        config = replace(base, mode=mode)
        curves, seconds = [], []
        for seed in args.seeds:
            history, sec = run(config, seed, per_epoch * args.every)
            curves.append(history["eval_pgd_accuracy"])
            clean = history["eval_clean_accuracy"][-1]
            seconds.append(sec)
            print(f"{mode:10s} seed {seed}: PGD-20 acc per {args.every} epochs "
                  + " ".join(f"{100 * a:5.1f}" for a in history["eval_pgd_accuracy"])
                  + f" | final clean {100 * clean:.1f} | {sec:.0f}s", flush=True)
        finals = torch.tensor([c[-1] for c in curves]) * 100
        peaks = torch.tensor([max(c) for c in curves]) * 100
        rows.append((mode, finals.mean().item(), finals.std().item() if len(finals) > 1 else 0.0,
                     peaks.mean().item(), sum(seconds) / len(seconds)))
    print(f"\nPGD-20 robust accuracy (%) on the digits test split, eps {args.epsilon}, {args.epochs} epochs, "
          f"seeds {args.seeds}")
    print(f"{'mode':10s} | {'final':>14s} | {'best epoch':>10s} | {'drop':>6s} | train s")
    for mode, mean, std, peak, sec in rows:
        print(f"{mode:10s} | {mean:6.1f} +- {std:4.1f} | {peak:10.1f} | {peak - mean:6.1f} | {sec:6.0f}")


if __name__ == "__main__":
    main()
