"""Localisation on placed digits (run with ``python -m zoo_plugins.dist_cam.experiments``): Dist-CAM on the metric
(prototype) model vs CAM on the softmax (``fc``) model, same backbone, data, steps and seeds; accuracy, top-1 and
GT-known localisation error at the box thresholds, and the pointing game."""
from __future__ import annotations

import argparse

import torch

import zoo


def run(head: str, seed: int, steps: int, data_size: int, thresholds: tuple[float, ...]) -> list[dict[str, float]]:
    """Train one model and evaluate it at each box threshold."""
    model = zoo.build("dist-cam-tiny", seed=seed, data_size=data_size, steps=steps, head=head)
    zoo.train(model, zoo.make_data(model, "placed-digits", "train"), seed=seed, progress=False)
    test = zoo.make_data(model, "placed-digits", "test")
    return [{"threshold": t, **zoo.evaluate(model, test, threshold=t)} for t in thresholds]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--data-size", type=int, default=600)
    parser.add_argument("--thresholds", type=float, nargs="*", default=[0.2, 0.5])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(f"{'map':22s} {'seed':>4s} {'thr':>4s} {'acc':>6s} {'loc err':>8s} {'GT loc err':>10s} {'pointing':>8s}")
    for head, label in (("prototype", "Dist-CAM (metric)"), ("fc", "CAM (softmax)")):
        for seed in range(args.seeds):
            for r in run(head, seed, args.steps, args.data_size, tuple(args.thresholds)):
                print(f"{label:22s} {seed:4d} {r['threshold']:4.1f} {r['accuracy']:6.3f} {r['loc_error']:8.3f} "
                      f"{r['gt_loc_error']:10.3f} {r['pointing']:8.3f}", flush=True)


if __name__ == "__main__":
    main()
