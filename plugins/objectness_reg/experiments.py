"""Vanishing patches against a torchvision RetinaNet trained from scratch on synthetic scenes, with and without
objectness regularisation, side by side (the paper's Table 1 protocol at CPU scale, adaptive attacks), and the
epsilon trade-off (Table 3). The detector is trained once; every row attacks the same images.

    python -m zoo_plugins.objectness_reg.experiments --steps 600 --eps 0.01 0.05 0.1 0.2 --attack-steps 255
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace

import torch

import zoo
from zoo.options import TrainOptions
from zoo_plugins.objectness_reg.config import tiny
from zoo_plugins.objectness_reg.data import make_data
from zoo_plugins.objectness_reg.train import evaluate, train


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--eps", type=float, nargs="+", default=[0.01, 0.05, 0.1, 0.2])
    parser.add_argument("--attack-steps", type=int, nargs="+", default=[255])
    parser.add_argument("--schedule", default="decay", choices=["decay", "fixed"])
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    config = replace(tiny(), steps=args.steps, step_schedule=args.schedule)
    model = zoo.build("objectness-regularization-tiny", config=config, seed=args.seed)
    start = time.perf_counter()
    result = train(model, make_data(config, "synthetic", "train"), config,
                   TrainOptions(progress=False, seed=args.seed))
    losses = result.history.get("loss", [float("nan")])
    print(f"trained {args.steps} steps in {time.perf_counter() - start:.0f} s, last loss {losses[-1]:.3f}")
    test = make_data(config, "synthetic", "test")
    print(f"{'eps':>5s} | {'steps':>5s} | AP50 plain | AP50 OR | boxes plain | boxes OR | VR plain | VR OR | "
          "VR objects plain | VR objects OR")
    for steps in args.attack_steps:
        plain: dict[str, float] = {}
        for eps in args.eps:
            m = evaluate(model, test, replace(config, eps=eps), {"attack_images": args.images, "attack_steps": steps,
                                                                 "eps": eps, "plain": not plain})
            plain = plain or {k: v for k, v in m.items() if k.endswith("_plain")}
            m.update(plain)
            print(f"{eps:5.2f} | {steps:5d} | {100 * m['ap50_plain']:10.1f} | {100 * m['ap50_or']:7.1f} | "
                  f"{m['clean_boxes_plain']:11.0f} | {m['clean_boxes_or']:8.0f} | {100 * m['vr_plain']:8.1f} | "
                  f"{100 * m['vr_or']:5.1f} | {100 * m['vr_objects_plain']:16.1f} | {100 * m['vr_objects_or']:13.1f}",
                  flush=True)


if __name__ == "__main__":
    main()
