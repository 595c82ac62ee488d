"""The paper's synthetic experiment (Sect. 3.1, Fig. 2 and Table 1) at CPU scale, side by side.

ISTA and FISTA run for t iterations; LISTA (MSE to the LASSO codes) and LISTA-MSN (NLL) are trained for each
depth K on the same data from the same ISTA initialisation, and evaluated on the same test signals. Criteria:
prediction error ``mean 1/2 ||x - D z||^2`` (the paper's), function value error ``F(z) - F(z*)``, code NMSE (dB)
against the LASSO solution, and sparsity (fraction of zeros; Table 1 compares h_eps on / off).

    python -m zoo_plugins.lista_msn.experiments --layers 2 5 10 --n-train 4000 --n-test 1000 --fista-iters 500
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace

import torch

import zoo
from zoo.options import TrainOptions
from zoo.prox import fista, ista
from zoo_plugins.lista_msn.config import paper
from zoo_plugins.lista_msn.data import make_data
from zoo_plugins.lista_msn.train import code_metrics, evaluate, train

COLUMNS = ("prediction_error", "function_value_error", "nmse_db", "sparsity")


def row(name: str, metrics: dict[str, float]) -> str:
    """One table row."""
    return f"{name:28s} | " + " | ".join(f"{metrics[c]:10.4f}" for c in COLUMNS)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, nargs="+", default=[1, 2, 5, 10])
    parser.add_argument("--n-train", type=int, default=10_000)
    parser.add_argument("--n-test", type=int, default=2_000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--iterations", type=int, nargs="+", default=[2, 5, 10, 20, 50, 100])
    parser.add_argument("--dictionary", default="gaussian", choices=["gaussian", "digits"])
    parser.add_argument("--fista-iters", type=int, default=1000, help="FISTA steps for the target codes")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    base = replace(paper(), n_train=args.n_train, n_test=args.n_test, epochs=args.epochs, lr=args.lr,
                   dictionary=args.dictionary, fista_iters=args.fista_iters)
    source = "synthetic" if args.dictionary == "gaussian" else "digits"
    start = time.perf_counter()
    train_set, test = make_data(base, source, "train"), make_data(base, source, "test")
    d, lam = test.dictionary, base.lam
    print(f"data: n {base.n}, m {base.m}, lambda {lam}, {len(train_set)} / {len(test)} samples, "
          f"z* sparsity {float((test.z == 0).float().mean()):.4f} ({time.perf_counter() - start:.0f} s)")
    print(f"{'method':28s} | " + " | ".join(f"{c[:10]:>10s}" for c in COLUMNS))
    print(row("LASSO solution z*", code_metrics(test.x, test.z, test.z, d, lam)))
    for t in args.iterations:
        print(row(f"ISTA   {t:3d} iterations", code_metrics(test.x, ista(test.x, d, lam, t), test.z, d, lam)))
        print(row(f"FISTA  {t:3d} iterations", code_metrics(test.x, fista(test.x, d, lam, t), test.z, d, lam)))
    for k in args.layers:
        for name, config in (("LISTA", replace(base, layers=k, head="none")),
                             ("LISTA-MSN", replace(base, layers=k)),
                             ("LISTA-MSN without h_eps", replace(base, layers=k, mu_eps=0.0))):
            model = zoo.build("lista-msn-paper", config=config, seed=0)
            t0 = time.perf_counter()
            train(model, train_set, config, TrainOptions(progress=False, seed=0))
            print(row(f"{name} K={k}", evaluate(model, test)) + f"  ({time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
