"""Table 1 / Table 2 at CPU scale (run with ``python -m zoo_plugins.cetransformer.experiments``): sqrt(PEHE) and ATE
error, in-sample (train units) and out-of-sample (test units), on IHDP-like realizations with known potential
outcomes; CETransformer, its two ablations, and T-learners (OLS = Table 1's OLS/LR_2, an sklearn MLP).
"""
from __future__ import annotations

import argparse
import statistics
from typing import Any

import torch

import zoo
from zoo_plugins.cetransformer.baselines import TLearner
from zoo_plugins.cetransformer.data import Units, make_data
from zoo_plugins.cetransformer.train import effect_errors, predict

#: name -> (variant, overrides) for the neural methods; T-learners are named ``T-learner (kind)``.
NEURAL: dict[str, tuple[str, dict[str, Any]]] = {
    "CETransformer": ("tiny", {}),
    "without transformer": ("no-transformer", {}),
    "without discriminator": ("no-discriminator", {}),
}


def run_neural(name: str, realization: int, steps: int | None) -> dict[str, float]:
    """Train one neural variant on the train units of ``realization``; errors in- and out-of-sample."""
    variant, overrides = NEURAL[name]
    model = zoo.build(f"cetransformer-{variant}", seed=realization, **overrides)
    train, test = (make_data(model.zoo.config, "ihdp-like", split, realization) for split in ("train", "test"))
    zoo.train(model, train, seed=realization, progress=False, **({"steps": steps} if steps else {}))
    return _errors(lambda x: predict(model, x).unbind(1), train, test)


def run_tlearner(kind: str, realization: int) -> dict[str, float]:
    """Fit a T-learner on the same train units; errors in- and out-of-sample."""
    config = zoo.build("cetransformer-tiny").zoo.config
    train, test = (make_data(config, "ihdp-like", split, realization) for split in ("train", "test"))
    learner = TLearner(kind, seed=realization).fit(train)
    return _errors(learner.predict, train, test)


def _errors(predict_fn: Any, train: Units, test: Units) -> dict[str, float]:
    out: dict[str, float] = {}
    for split, data in (("in", train), ("out", test)):
        mu0, mu1 = predict_fn(data.x)
        for key, value in effect_errors(mu0, mu1, data).items():
            out[f"{key}_{split}"] = value
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--realizations", type=int, default=5)
    parser.add_argument("--steps", type=int, default=None, help="training steps of the neural methods")
    parser.add_argument("--methods", nargs="*", default=[*NEURAL, "T-learner (ols)", "T-learner (mlp)"])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(f"{'method':24s} {'sqrt PEHE in':>14s} {'sqrt PEHE out':>14s} {'ATE err out':>12s}")
    for method in args.methods:
        rows = []
        for r in range(args.realizations):
            if method.startswith("T-learner"):
                rows.append(run_tlearner(method.split("(")[1].rstrip(")"), r))
            else:
                rows.append(run_neural(method, r, args.steps))

        def cell(key: str) -> str:
            values = [row[key] for row in rows]
            return f"{statistics.mean(values):.2f}+-{statistics.pstdev(values):.2f}"

        print(f"{method:24s} {cell('sqrt_pehe_in'):>14s} {cell('sqrt_pehe_out'):>14s} {cell('ate_error_out'):>12s}",
              flush=True)


if __name__ == "__main__":
    main()
