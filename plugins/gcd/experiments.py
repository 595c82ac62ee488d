"""Longer CPU experiments of GCD (not tests): the gamma sweep of the paper's consistency/diversity claim.

The paper (blog Part 5): gamma = 1 is best on MMC, GMC and TIF, gamma = -1 best on GenDiv, i.e. raising gamma
makes the group more consistent (GMC up) and less diverse (GenDiv down). This trains ``gcd-tiny`` on the synthetic
dances for ``--steps`` steps with a given lambda_nce, then evaluates the SAME test groups with the SAME sampling seed
at every gamma, and prints one row per gamma.

Run::

    OMP_NUM_THREADS=1 nice -n 15 .venv/bin/python -m zoo_plugins.gcd.experiments --steps 2000 --nce 0.001 \\
        --gammas -1 -0.5 0 0.5 1 --out runs/gcd-gamma
"""
from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

METRICS: tuple[str, ...] = ("gmc", "gen_div", "mmc", "fid_k", "gmr", "tif", "pfc")


def monotone(values: Sequence[float]) -> str:
    """``up`` / ``down`` when strictly monotone in gamma order, else ``no``."""
    d = np.diff(np.asarray(values, dtype=float))
    return "up" if (d > 0).all() else "down" if (d < 0).all() else "no"


def gamma_sweep(steps: int, nce: float, gammas: Sequence[float], seed: int, out: Path | None,
                ddim: int | None = None) -> dict[str, object]:
    """Train (or reuse ``out/model.safetensors``) and evaluate every gamma; returns the table as a dict."""
    import zoo
    from zoo_plugins.gcd.config import LossWeights

    torch.manual_seed(seed)
    model = zoo.build("gcd-tiny", weights=LossWeights(nce=nce), seed=seed)
    weights = out / "model.safetensors" if out else None
    info: dict[str, object] = {"steps": steps, "nce": nce, "seed": seed}
    if weights is not None and weights.is_file():
        from safetensors.torch import load_file

        model.load_state_dict(load_file(str(weights)))
        if (out / "train.json").is_file():  # type: ignore[operator]
            info.update(json.loads((out / "train.json").read_text()))  # type: ignore[operator]
    else:
        start = time.time()
        extra = {"out_dir": str(out)} if out else {}
        result = zoo.train(model, zoo.make_data(model, "synthetic", "train"), steps=steps, seed=seed,
                           progress=False, **extra)
        hist = result.history
        info.update(train_seconds=round(time.time() - start), loss_last50=float(np.mean(hist["loss"][-50:])),
                    nce_last50=float(np.mean(hist.get("nce", [np.nan])[-50:])),
                    nce_acc_last50=float(np.mean(hist.get("nce_acc", [np.nan])[-50:])))
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            (out / "train.json").write_text(json.dumps(info))
    test = zoo.make_data(model, "synthetic", "test")
    rows = {}
    for gamma in gammas:
        metrics = zoo.evaluate(model, test, gamma=float(gamma), seed=0, **({"steps": ddim} if ddim else {}))
        rows[f"{gamma:g}"] = {k: float(metrics[k]) for k in (*METRICS, "gmc_gt", "gen_div_gt")}
        print(f"gamma={gamma:+.2f} " + " ".join(f"{k}={rows[f'{gamma:g}'][k]:.4g}" for k in METRICS), flush=True)
    info["rows"] = rows
    info["monotone"] = {k: monotone([rows[f"{g:g}"][k] for g in gammas]) for k in METRICS}
    return info


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--nce", type=float, default=0.001, help="lambda_nce (paper: 0.001)")
    parser.add_argument("--gammas", type=float, nargs="+", default=[-1.0, -0.5, 0.0, 0.5, 1.0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ddim", type=int, default=None, help="DDIM steps (default: the variant's)")
    parser.add_argument("--out", type=Path, default=None, help="keep/reuse the trained weights here")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    info = gamma_sweep(args.steps, args.nce, args.gammas, args.seed, args.out, args.ddim)
    print(json.dumps({k: v for k, v in info.items() if k != "rows"}))
    print("| gamma | " + " | ".join(METRICS) + " |")
    print("|---|" + "---|" * len(METRICS))
    for g, row in info["rows"].items():  # type: ignore[union-attr]
        print(f"| {g} | " + " | ".join(f"{row[k]:.4g}" for k in METRICS) + " |")
    if args.json:
        args.json.write_text(json.dumps(info, indent=1))


if __name__ == "__main__":
    main()
