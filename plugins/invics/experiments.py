"""PSNR vs CS ratio on natural images (scikit-image's bundled samples; synthetic natural-like images without
scikit-image), next to the paper's Table 1 (Set11), at CPU scale: 33x33 blocks as in the paper (so M per ratio
is the paper's), fewer phases / channels and far fewer steps. Each ratio trains its own model from the same
seed; PSNR is on the three held-out test images (camera = Set11's cameraman, astronaut, coffee; 264x264 centre
crops). ``PSNR Phi^T y`` is the initial estimate alone, before the recovery phases.

    python -m zoo_plugins.invics.experiments --phases 3 --channels 8 --steps 100 --batch 8 --ratios 0.04 0.1 0.25 0.5
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace

import torch

import zoo
from zoo.options import TrainOptions
from zoo_plugins.invics.config import paper
from zoo_plugins.invics.data import has_skimage, make_data
from zoo_plugins.invics.train import evaluate, train

#: Table 1 of the paper, Set11 PSNR (dB): OPINE-Net+ and InvICS.
PAPER_SET11: dict[float, tuple[float, float]] = {0.01: (20.15, 20.40), 0.04: (25.69, 26.08), 0.10: (29.81, 30.34),
                                                 0.25: (34.86, 35.68), 0.50: (40.17, 41.24)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ratios", type=float, nargs="+", default=sorted(PAPER_SET11))
    parser.add_argument("--phases", type=int, default=5)
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    source = "natural" if has_skimage() else "synthetic"
    print(f"images: {source}; K {args.phases}, z {args.channels}, {args.steps} steps of {args.batch} 33x33 crops")
    print(f"{'ratio':>5s} | {'M':>4s} | PSNR Phi^T y | PSNR InvICS | paper Set11 OPINE-Net+ / InvICS | train s")
    for ratio in args.ratios:
        config = replace(paper(), ratio=ratio, phases=args.phases, channels=args.channels, p_hidden=args.channels,
                         dense_layers=3, growth=8, res_hidden=8, lr=args.lr, steps=args.steps,
                         batch_size=args.batch, steps_per_epoch=args.steps, epochs=1)
        model = zoo.build("invics-paper", config=config, seed=args.seed)
        start = time.perf_counter()
        train(model, make_data(config, source, "train"), config, TrainOptions(progress=False, seed=args.seed))
        seconds = time.perf_counter() - start
        metrics = evaluate(model, make_data(config, source, "test"))
        opine, invics = PAPER_SET11.get(ratio, (float("nan"), float("nan")))
        print(f"{100 * ratio:4.0f}% | {config.m:4d} | {metrics['psnr_initial']:12.2f} | {metrics['psnr']:11.2f} | "
              f"{opine:10.2f} / {invics:5.2f}{'':16s} | {seconds:6.0f}", flush=True)


if __name__ == "__main__":
    main()
