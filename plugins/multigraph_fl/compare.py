"""The paper's published cycle-time table against this plugin, under the named time models.

The published numbers are Table 3 of the ICCV paper (``misc/table_3.png`` of the public code,
github.com/aioz-ai/MultigraphFL): cycle time in ms of STAR, MATCHA, MATCHA(+), MST, delta-MBST, RING and the
multigraph on five networks for three dataset models. This script recomputes every cell with the plugin and prints
the relative error per cell and its mean per dataset, for each time-model preset (``published``: the public
code's model; ``blog``: the blog's formulas).

Run:  .venv/bin/python -m zoo_plugins.multigraph_fl.compare [--datasets femnist,inaturalist,sent140]
      [--presets published,blog] [--networks gaia,amazon_us,geantdistance,exodus,ebone]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

ORDER = ("STAR", "MATCHA", "MATCHA+", "MST", "delta-MBST", "RING", "MULTIGRAPH")
#: Table 3 of the paper (ms): {dataset: {network: (STAR, MATCHA, MATCHA+, MST, delta-MBST, RING, Ours)}}.
PUBLISHED: dict[str, dict[str, tuple[float, ...]]] = {
    "femnist": {
        "gaia": (289.8, 166.4, 166.4, 77.2, 77.2, 57.2, 15.7),
        "amazon_us": (98.8, 57.7, 57.7, 28.7, 28.7, 20.3, 13.6),
        "geantdistance": (132.2, 46.9, 102.3, 40.1, 40.1, 27.7, 12.0),
        "exodus": (265.2, 84.7, 211.5, 84.4, 84.4, 24.7, 12.1),
        "ebone": (190.9, 61.5, 112.6, 60.9, 60.9, 18.5, 12.7),
    },
    "inaturalist": {
        "gaia": (390.9, 227.4, 227.4, 138.1, 138.1, 118.1, 68.6),
        "amazon_us": (288.1, 123.9, 123.9, 89.7, 89.7, 81.3, 81.3),
        "geantdistance": (622.3, 107.9, 452.5, 101.0, 101.0, 109.0, 68.1),
        "exodus": (911.9, 145.7, 593.2, 145.3, 145.3, 103.9, 62.6),
        "ebone": (901.7, 122.5, 579.9, 121.8, 121.8, 95.3, 64.9),
    },
    "sent140": {
        "gaia": (323.8, 186.0, 186.0, 96.8, 96.8, 76.8, 31.0),
        "amazon_us": (164.6, 79.2, 79.2, 48.4, 48.4, 40.0, 35.8),
        "geantdistance": (310.5, 66.6, 222.6, 59.7, 59.7, 54.9, 30.3),
        "exodus": (495.4, 104.3, 346.3, 104.1, 104.1, 50.6, 28.0),
        "ebone": (444.2, 81.1, 262.2, 80.5, 80.5, 43.9, 29.1),
    },
}


def errors(dataset: str, network: str, preset: str, t_max: int = 5) -> tuple[list[float], list[float]]:
    """``(ours, relative errors)`` of one table row under a time-model preset (ms, in :data:`ORDER`)."""
    from .config import paper, with_time_model
    from .design import design, time_model_of
    from .model import profile
    from .underlay import load_underlay

    cfg = with_time_model(paper(), preset)
    prof = profile(dataset)
    tm = time_model_of(cfg, prof.paper_size, prof.compute_ms)
    d = design(load_underlay(network), cfg, tm, rounds=prof.rounds, baselines=True)
    ours = [d.cycle_time_ms[k] for k in ORDER]
    return ours, [abs(o - p) / p for o, p in zip(ours, PUBLISHED[dataset][network])]


def main() -> None:
    """Print every row (ours / published) and the mean relative error per dataset and preset."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="femnist,inaturalist,sent140")
    ap.add_argument("--presets", default="published,blog")
    ap.add_argument("--networks", default="gaia,amazon_us,geantdistance,exodus,ebone")
    args = ap.parse_args()
    start = time.perf_counter()
    summary = []
    for preset in args.presets.split(","):
        for dataset in args.datasets.split(","):
            errs: list[float] = []
            for network in args.networks.split(","):
                ours, err = errors(dataset, network, preset)
                errs += err
                cells = " ".join(f"{o:7.1f}/{p:<6}" for o, p in zip(ours, PUBLISHED[dataset][network]))
                print(f"{preset:<9} {dataset:<11} {network:<13} {cells} mean err {np.mean(err):6.1%}", flush=True)
            summary.append((preset, dataset, float(np.mean(errs)), float(np.max(errs))))
    print(f"\nmean (max) relative error over the cells {ORDER} x networks:")
    for preset, dataset, mean, worst in summary:
        print(f"  {preset:<9} {dataset:<11} {mean:6.1%} ({worst:.1%})")
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
