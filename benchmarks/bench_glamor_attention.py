"""GLAMOR-Net's attention ablation on synthetic faces in context: GLA vs context-only attention (CA) vs none.

The paper's Table 2 compares, on NCAER-S, no attention, CAER-Net's attention and GLA; this runs the same three
settings (``attention="none" | "ca" | "gla"``, face + masked context) on the synthetic scenes, side by side with the
same seeds, data and recipe. Not a test.

Run: ``.venv/bin/python benchmarks/bench_glamor_attention.py [--seeds 0 1 2] [--steps 250] [--threads 1] [--lr LR]
[--attention none ca gla] [--fusion face+context|face|context]``
"""
from __future__ import annotations

import argparse
import math
import time

import torch


def run_one(attention: str, seed: int, steps: int, lr: float | None = None, fusion: str = "face+context") -> float:
    """Test accuracy of one ``glamor-net-tiny`` trained with the given attention."""
    import zoo
    from zoo.options import TrainOptions
    from zoo_plugins.glamor_net.data import synthetic

    torch.manual_seed(seed)
    model = zoo.build("glamor-net-tiny", attention=attention, fusion_inputs=fusion, **({"lr": lr} if lr else {}))
    config = model.zoo.config
    zoo.train(model, synthetic(config, "train", seed), options=TrainOptions(steps=steps, seed=seed, progress=False))
    return zoo.evaluate(model, synthetic(config, "test", seed))["accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=250)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--lr", type=float, default=None, help="override the tiny variant's learning rate")
    parser.add_argument("--attention", nargs="+", default=["none", "ca", "gla"])
    parser.add_argument("--fusion", default="face+context", help="face+context | face | context (Table 2 settings)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    start = time.time()
    accs: dict[str, list[float]] = {}
    for attention in args.attention:
        for seed in args.seeds:
            accs.setdefault(attention, []).append(run_one(attention, seed, args.steps, args.lr, args.fusion))
            print(f"attention={attention} seed={seed} acc={accs[attention][-1]:.4f} [{time.time() - start:.0f}s]",
                  flush=True)
    print(f"\nglamor-net-tiny ({args.fusion}), {args.steps} steps, seeds {args.seeds}: test accuracy, mean +- s.e.")
    base = sum(accs["none"]) / len(accs["none"]) if "none" in accs else float("nan")
    for attention, values in accs.items():
        m = sum(values) / len(values)
        se = math.sqrt(sum((v - m) ** 2 for v in values) / max(1, len(values) - 1) / len(values))
        print(f"{attention:>5}  {m:.4f} +- {se:.4f}   vs none: {m - base:+.4f}")


if __name__ == "__main__":
    main()
