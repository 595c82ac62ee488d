"""LDL-VA vs plain cross-entropy under injected label noise on synthetic faces (mean of seeds, side by side).

The paper's synthetic-noise protocol: flip a fraction of the training labels to another class, train, report test
accuracy (clean labels) as mean +- standard error over runs. Both methods use the same tiny network, data, seed,
recipe and augmentation; only the loss differs (``loss="ldl"`` vs ``loss="ce"``). Not a test.

Run: ``.venv/bin/python benchmarks/bench_ldlva_noise.py [--noise 0.1 0.3] [--seeds 0 1 2] [--steps 450]
[--threads 1] [--json out.json]``
"""
from __future__ import annotations

import argparse
import math
import time

import torch


def run_one(loss: str, noise: float, seed: int, steps: int, variant: str) -> dict[str, float]:
    """Train one tiny model and return its clean test accuracy (and the mean lambda on flipped/clean labels)."""
    import zoo
    from zoo.options import TrainOptions
    from zoo_plugins.ldl_va.data import synthetic

    torch.manual_seed(seed)
    model = zoo.build(f"ldl-va-{variant}", loss=loss, label_noise=noise, noise_seed=seed)
    config = model.zoo.config
    train, test = synthetic(config, "train", seed=seed), synthetic(config, "test", seed=seed)
    result = zoo.train(model, train, options=TrainOptions(steps=steps, seed=seed, progress=False))
    out = {"accuracy": zoo.evaluate(model, test)["accuracy"], "noise": train.noise_rate}
    out.update({k: v for k, v in result.metrics.items() if k.startswith("lambda_")})
    return out


def mean_se(values: list[float]) -> tuple[float, float]:
    """Mean and standard error of the mean."""
    m = sum(values) / len(values)
    if len(values) < 2:
        return m, 0.0
    var = sum((v - m) ** 2 for v in values) / (len(values) - 1)
    return m, math.sqrt(var / len(values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noise", type=float, nargs="+", default=[0.1, 0.3])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=450)
    parser.add_argument("--variant", default="tiny")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a loaded machine)")
    parser.add_argument("--json", default="", help="also write the raw runs to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    runs: dict[str, dict[str, list[dict[str, float]]]] = {}
    start = time.time()
    for noise in args.noise:
        for loss in ("ldl", "ce"):
            for seed in args.seeds:
                r = run_one(loss, noise, seed, args.steps, args.variant)
                runs.setdefault(f"{noise:g}", {}).setdefault(loss, []).append(r)
                print(f"noise={noise:g} loss={loss} seed={seed} acc={r['accuracy']:.4f} "
                      + " ".join(f"{k}={v:.3f}" for k, v in r.items() if k.startswith("lambda_"))
                      + f"  [{time.time() - start:.0f}s]", flush=True)
    print(f"\nldl-va-{args.variant}, {args.steps} steps, seeds {args.seeds}: clean test accuracy, mean +- s.e.")
    print(f"{'noise':>6}  {'LDL-VA':>16}  {'plain CE':>16}  {'LDL-VA - CE':>12}  {'ratio':>6}  lambda flipped/clean")
    for noise, by_loss in runs.items():
        ldl, se_l = mean_se([r["accuracy"] for r in by_loss["ldl"]])
        ce, se_c = mean_se([r["accuracy"] for r in by_loss["ce"]])
        lf = mean_se([r.get("lambda_flipped", float("nan")) for r in by_loss["ldl"]])[0]
        lc = mean_se([r.get("lambda_clean", float("nan")) for r in by_loss["ldl"]])[0]
        print(f"{noise:>6}  {ldl:>9.4f}+-{se_l:.4f}  {ce:>9.4f}+-{se_c:.4f}  {ldl - ce:>+12.4f}  {ldl / ce:>6.3f}  "
              f"{lf:.3f}/{lc:.3f}")
    if args.json:
        from zoo.io import atomic_write_json

        atomic_write_json(args.json, {"args": vars(args), "runs": runs})


if __name__ == "__main__":
    main()
