"""GLAMOR-Net's input-setting ablation on the synthetic scenes (not a test): the paper's NCAER-S Table 2 settings
(i) face only, (ii) context with the face masked, (iii) context with the face VISIBLE, (iv) face + masked context,
each with no attention and with GLA, same seeds, data and recipe (``glamor-net-tiny``).

Run::

    OMP_NUM_THREADS=1 nice -n 15 .venv/bin/python -m zoo_plugins.glamor_net.experiments --seeds 0 1 2 --steps 250
"""
from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence

import torch

SETTINGS: dict[str, dict[str, str]] = {
    "(i) face only": {"fusion_inputs": "face"},
    "(ii) context, face masked": {"fusion_inputs": "context"},
    "(iii) context, face visible": {"fusion_inputs": "context", "context_face": "visible"},
    "(iv) face + masked context": {},
}


def run_one(setting: dict[str, str], attention: str, seed: int, steps: int) -> float:
    """Test accuracy of one ``glamor-net-tiny`` trained in ``setting`` with ``attention``."""
    import zoo
    from zoo.options import TrainOptions
    from zoo_plugins.glamor_net.data import synthetic

    torch.manual_seed(seed)
    model = zoo.build("glamor-net-tiny", attention=attention, **setting)
    config = model.zoo.config
    zoo.train(model, synthetic(config, "train", seed), options=TrainOptions(steps=steps, seed=seed, progress=False))
    return float(zoo.evaluate(model, synthetic(config, "test", seed))["accuracy"])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=250)
    parser.add_argument("--attention", nargs="+", default=["none", "gla"])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    start = time.time()
    rows: dict[str, dict[str, list[float]]] = {}
    for name, setting in SETTINGS.items():
        for attention in args.attention:
            for seed in args.seeds:
                acc = run_one(setting, attention, seed, args.steps)
                rows.setdefault(name, {}).setdefault(attention, []).append(acc)
                print(f"{name} attention={attention} seed={seed} acc={acc:.4f} [{time.time() - start:.0f}s]",
                      flush=True)
    print(f"\nglamor-net-tiny, {args.steps} steps, seeds {args.seeds}: test accuracy, mean +- s.e.")
    print("| setting | " + " | ".join(args.attention) + " |")
    print("|---|" + "---|" * len(args.attention))
    for name, by_attention in rows.items():
        cells = []
        for attention in args.attention:
            values = by_attention[attention]
            m = sum(values) / len(values)
            se = math.sqrt(sum((v - m) ** 2 for v in values) / max(1, len(values) - 1) / len(values))
            cells.append(f"{m:.4f} ± {se:.4f}")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
