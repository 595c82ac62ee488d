"""NHL on corrupted digit streams: what each part of the adaptation adds over the source model.

    python -m zoo_plugins.nhl.compare --seeds 3

For each corruption: stream accuracy of the source model, of test-batch normalisation alone, of the Hebbian first
layer, of the entropy-tuned neuro-modulator and of both (NHL), online, without labels.
"""
from __future__ import annotations

import argparse
import statistics

import torch

import zoo
from zoo_plugins.nhl.train import ablation

ROWS = ("source", "norm", "hebbian", "modulator", "nhl")


def main() -> None:
    """Print the ablation table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{'stream':<26}" + "".join(f"{r:>17}" for r in ROWS))
    for variant, label in (("tiny", "noise sigma 0.5"), ("blur", "blur 1.0 + noise 0.3")):
        results = []
        for seed in range(args.seeds):
            model = zoo.build(f"nhl-{variant}", seed=seed)
            zoo.train(model, zoo.make_data(model, "digits", "train"), progress=False, seed=seed)
            results.append(ablation(model, zoo.make_data(model, "digits", "test"), model.zoo.config))
        cells = []
        for r in ROWS:
            vals = [res[r] for res in results]
            cells.append(f"{statistics.mean(vals):.4f} ± {statistics.stdev(vals) if len(vals) > 1 else 0.0:.4f}")
        print(f"{label:<26}" + "".join(f"{c:>17}" for c in cells))
    print(f"(digits test split as the stream, batches of 64, online; source CNN trained 400 steps on clean digits; "
          f"{args.seeds} seed(s))")


if __name__ == "__main__":
    main()
