"""Reproduce the papers' comparison tables on the synthetic non-IID roads (or a real dataset folder).

::

    python -m zoo_plugins.driving.experiments --rounds 60 --topologies gaia nws exodus

prints a markdown table with one row per (method, learning scheme, topology) and the RMSE / MAE on the test split,
plus the "Constant" baseline (the mean training angle) as in Table 2 of both papers. The total number of training
samples is held fixed across topologies (as in the papers: more silos means fewer samples per silo).
"""
from __future__ import annotations

import argparse
import dataclasses
import time
from typing import Any

import torch
from zoo_plugins.driving.infer import constant_baseline, dataset_tensors
from zoo_plugins.driving.model import count_parameters
from zoo_plugins.driving.topology import num_silos

import zoo
from zoo.api import get_config
from zoo.options import TrainOptions


def run_one(name: str, scheme: str, topology: str, rounds: int, total_samples: int, data: str,
            seed: int) -> dict[str, Any]:
    """Train ``name`` with one scheme on one topology; return its metrics, parameter count and CPU time."""
    base = get_config(name)
    n = num_silos(topology)
    fed = dataclasses.replace(base.federated, scheme=scheme, topology=topology, rounds=rounds)
    cfg = dataclasses.replace(base, federated=fed,
                              data=dataclasses.replace(base.data, samples_per_silo=max(1, total_samples // n)))
    model = zoo.build(name, config=cfg)
    train = zoo.make_data(model, data, "train")
    test = zoo.make_data(model, data, "test")
    start = time.process_time()
    zoo.train(model, train, options=TrainOptions(seed=seed, progress=False))
    cpu = time.process_time() - start
    metrics = dict(zoo.evaluate(model, test))
    deployed = model.backbone if hasattr(model, "backbone") else model
    return {"rmse": metrics["rmse"], "mae": metrics["mae"], "params": count_parameters(model),
            "deployed_params": count_parameters(deployed), "cpu_s": cpu,
            "const": constant_baseline(train.pooled().angles, dataset_tensors(test)[1])}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--methods", nargs="+", default=["fadnet-tiny", "cdl-tiny"])
    p.add_argument("--schemes", nargs="+", default=["cll", "sfl", "dfl"])
    p.add_argument("--topologies", nargs="+", default=["gaia", "nws"])
    p.add_argument("--rounds", type=int, default=60)
    p.add_argument("--total-samples", type=int, default=1056)
    p.add_argument("--data", default="synthetic")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    print("| method | scheme | topology | RMSE | MAE | #params (train) | #params (deployed) | CPU s |")
    print("|---|---|---|---|---|---|---|---|")
    const = None
    for name in args.methods:
        for scheme in args.schemes:
            tops = args.topologies if scheme != "cll" else [args.topologies[0]]
            for topology in tops:
                r = run_one(name, scheme, topology, args.rounds, args.total_samples, args.data, args.seed)
                const = r["const"]
                where = topology if scheme != "cll" else "-"
                print(f"| {name} | {scheme.upper()} | {where} | {r['rmse']:.3f} | {r['mae']:.3f} | {r['params']:,} | "
                      f"{r['deployed_params']:,} | {r['cpu_s']:.0f} |", flush=True)
    if const is not None:
        print(f"| Constant | - | - | {const['rmse']:.3f} | {const['mae']:.3f} | - | - | - |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
